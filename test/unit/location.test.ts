/**
 * ISO 6709 decimal-degree locations (docs/protocol.md "IAMAT"): latitude then longitude, each
 * with its own sign; latitude in [-90, 90] and longitude in [-180, 180], both inclusive.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIso6709, parseIso6709 } from '../../src/protocol/location.js';
import { assertRefusesAll } from '../helpers/protocol-text.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

/** `±D.DDDDDD` from integer micro-degrees, built from the digits (no float formatting). */
function microDegreesText(micro: number, integerWidth: number): string {
  const sign = micro < 0 ? '-' : '+';
  const digits = Math.abs(micro).toString().padStart(7, '0');
  return `${sign}${digits.slice(0, -6).padStart(integerWidth, '0')}.${digits.slice(-6)}`;
}

describe('parseIso6709', () => {
  test('parses the protocol examples', () => {
    assert.deepEqual(parseIso6709('+34.068930-118.445127'), { latitude: 34.06893, longitude: -118.445127 });
    assert.deepEqual(parseIso6709('+27.5916+086.5640'), { latitude: 27.5916, longitude: 86.564 });
  });

  test('accepts integer degrees and any number of fraction digits', () => {
    assert.deepEqual(parseIso6709('+34-118'), { latitude: 34, longitude: -118 });
    const zero = parseIso6709('-0+0');
    assert.ok(zero !== undefined && zero.latitude === 0 && zero.longitude === 0);
    assert.deepEqual(parseIso6709('+1.123456789012+2.5'), { latitude: 1.123456789012, longitude: 2.5 });
  });

  test('latitude -90 and 90, longitude -180 and 180 are inside the range', () => {
    assert.deepEqual(parseIso6709('+90+180'), { latitude: 90, longitude: 180 });
    assert.deepEqual(parseIso6709('-90-180'), { latitude: -90, longitude: -180 });
    assert.deepEqual(parseIso6709('+90.000000-180.000000'), { latitude: 90, longitude: -180 });
    assert.deepEqual(parseIso6709('-090.0+180.0'), { latitude: -90, longitude: 180 });
  });

  test('rejects a latitude outside [-90, 90] or a longitude outside [-180, 180]', () => {
    for (const text of [
      '+90.0001+000',
      '-90.000001+0',
      '+91+0',
      '-91+0',
      '+0+180.0001',
      '+0-180.000001',
      '+0+181',
      '+0-181',
      '+900+0',
      '+0+1800',
    ]) {
      assert.equal(parseIso6709(text), undefined, text);
    }
  });

  test('rejects malformed locations', () => {
    assertRefusesAll(parseIso6709, [
      '',
      '34.068930-118.445127', // latitude without its sign
      '+34.068930', // one coordinate
      '+34.068930118.445127', // longitude without its sign
      '+34.-118.4',
      '+.5+.5',
      '+34.0689 -118.4451',
      '+34,0689-118,4451',
      '+1e1+0',
      '++34-118',
      '+34-118+5',
      '+34.5-118.5x',
      ' +34.5-118.5',
      '+３４-118',
      'NaN',
      '+Infinity-0',
    ]);
  });

  test('property: every in-range point in micro-degrees parses to its value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -90_000_000, max: 90_000_000 }),
        fc.integer({ min: -180_000_000, max: 180_000_000 }),
        fc.integer({ min: 1, max: 3 }),
        (lat, lng, width) => {
          const latText = microDegreesText(lat, width);
          const lngText = microDegreesText(lng, width);
          const point = parseIso6709(latText + lngText);
          assert.ok(point !== undefined, latText + lngText);
          assert.equal(point.latitude, Number(latText));
          assert.equal(point.longitude, Number(lngText));
        },
      ),
      FC,
    );
  });

  test('property: a point with either coordinate out of range is rejected', () => {
    const outLat = fc.oneof(
      fc.integer({ min: 90_000_001, max: 999_999_999 }),
      fc.integer({ min: -999_999_999, max: -90_000_001 }),
    );
    const outLng = fc.oneof(
      fc.integer({ min: 180_000_001, max: 999_999_999 }),
      fc.integer({ min: -999_999_999, max: -180_000_001 }),
    );
    const inLat = fc.integer({ min: -90_000_000, max: 90_000_000 });
    const inLng = fc.integer({ min: -180_000_000, max: 180_000_000 });
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(outLat, inLng), fc.tuple(inLat, outLng), fc.tuple(outLat, outLng)),
        ([lat, lng]) => {
          assert.equal(parseIso6709(microDegreesText(lat, 1) + microDegreesText(lng, 1)), undefined);
        },
      ),
      FC,
    );
  });

  test('a latitude or longitude just past the bound by less than a double can show is rejected', () => {
    assert.equal(parseIso6709('+90.0000000000000001+000.0'), undefined);
    assert.equal(parseIso6709('+00.0-180.00000000000001'), undefined);
  });
});

describe('formatIso6709', () => {
  test('each coordinate with its sign and six fraction digits', () => {
    assert.equal(formatIso6709(34.06893, -118.445127), '+34.068930-118.445127');
    assert.equal(formatIso6709(-0.5, 0), '-0.500000+0.000000');
  });

  test('parseIso6709 reads back every point it formats, to the microdegree', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -90, max: 90, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true }),
        (latitude, longitude) => {
          const point = parseIso6709(formatIso6709(latitude, longitude));
          assert.ok(point !== undefined);
          assert.ok(Math.abs(point.latitude - latitude) <= 5e-7 + 1e-12);
          assert.ok(Math.abs(point.longitude - longitude) <= 5e-7 + 1e-12);
        },
      ),
      FC,
    );
  });
});
