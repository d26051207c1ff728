/**
 * Google's legacy pretty print (docs/protocol.md "WHATSAT"; reference/google-places.md): 3-space
 * indent, `"key" : value`, `[]` and `{}` for empties, keys in the order given, and a document that
 * JSON.parse reads back to the same value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatGoogleJson } from '../../src/protocol/google-json.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

describe('formatGoogleJson', () => {
  test("prints a Nearby Search response in Google's layout", () => {
    const doc = {
      html_attributions: [],
      results: [
        {
          geometry: { location: { lat: 34.0689117, lng: -118.4449861 } },
          name: 'Westwood',
          place_id: 'geonames:5408076',
          types: ['neighborhood', 'political'],
          vicinity: 'Westwood, US',
        },
      ],
      status: 'OK',
    };
    const expected = [
      '{',
      '   "html_attributions" : [],',
      '   "results" : [',
      '      {',
      '         "geometry" : {',
      '            "location" : {',
      '               "lat" : 34.0689117,',
      '               "lng" : -118.4449861',
      '            }',
      '         },',
      '         "name" : "Westwood",',
      '         "place_id" : "geonames:5408076",',
      '         "types" : [ "neighborhood", "political" ],',
      '         "vicinity" : "Westwood, US"',
      '      }',
      '   ],',
      '   "status" : "OK"',
      '}',
    ].join('\n');
    assert.equal(formatGoogleJson(doc), expected);
  });

  test('prints empty arrays and objects as [] and {}, at top level and nested', () => {
    assert.equal(formatGoogleJson([]), '[]');
    assert.equal(formatGoogleJson({}), '{}');
    assert.equal(
      formatGoogleJson({ a: [], b: {}, c: [[], {}] }),
      '{\n   "a" : [],\n   "b" : {},\n   "c" : [\n      [],\n      {}\n   ]\n}',
    );
  });

  test('prints scalars as JSON does', () => {
    assert.equal(formatGoogleJson(null), 'null');
    assert.equal(formatGoogleJson(true), 'true');
    assert.equal(formatGoogleJson(false), 'false');
    assert.equal(formatGoogleJson(0), '0');
    assert.equal(formatGoogleJson(-1.5e-7), '-1.5e-7');
    assert.equal(formatGoogleJson('a "quoted"\n\\ string'), '"a \\"quoted\\"\\n\\\\ string"');
  });

  test('keeps keys in the order given', () => {
    assert.equal(
      formatGoogleJson({ status: 'OK', results: [], html_attributions: [] }),
      '{\n   "status" : "OK",\n   "results" : [],\n   "html_attributions" : []\n}',
    );
  });

  test('leaves out undefined and function members; non-finite numbers and undefined array items become null', () => {
    const value = { a: undefined, b: 1, c: () => 1, d: Number.NaN, e: [undefined, Number.POSITIVE_INFINITY] };
    const text = formatGoogleJson(value);
    assert.equal(text, '{\n   "b" : 1,\n   "d" : null,\n   "e" : [ null, null ]\n}');
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
    assert.equal(formatGoogleJson({ only: undefined }), '{}');
  });

  test('a string with newlines never puts a raw newline (so no empty line) in the output', () => {
    const text = formatGoogleJson({ error_message: 'line one\n\nline two\n' });
    assert.ok(!text.includes('\n\n'));
    assert.equal(text.split('\n').length, 3);
  });

  test('a frozen object prints the same as an unfrozen one, at any depth, every time (its text is reused)', () => {
    const place = Object.freeze({
      geometry: Object.freeze({ location: Object.freeze({ lat: 1.5, lng: -2 }) }),
      name: 'A <b>',
      types: Object.freeze(['locality']),
    });
    const plain = JSON.parse(JSON.stringify(place)) as object;
    for (const wrap of [(p: object) => ({ results: [p] }), (p: object) => ({ a: { b: [p] } }), (p: object) => [p]]) {
      const expected = formatGoogleJson(wrap(plain));
      assert.equal(formatGoogleJson(wrap(place)), expected);
      assert.equal(formatGoogleJson(wrap(place)), expected, 'again, from the reused text');
    }
  });

  test('has no trailing newline', () => {
    assert.ok(!formatGoogleJson({ a: [1] }).endsWith('\n'));
  });

  test('property: any JSON value round-trips through JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = formatGoogleJson(value);
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
        assert.ok(!text.includes('\n\n'), 'no empty line');
      }),
      FC,
    );
  });

  test('short arrays of scalars go on one line, long ones a line per item, as Google prints them', () => {
    assert.equal(
      formatGoogleJson({ types: ['bank', 'atm', 'finance', 'point_of_interest', 'establishment'] }),
      '{\n   "types" : [ "bank", "atm", "finance", "point_of_interest", "establishment" ]\n}',
    );
    const long = 'x'.repeat(90);
    assert.equal(
      formatGoogleJson({ html_attributions: [long] }),
      `{\n   "html_attributions" : [\n      "${long}"\n   ]\n}`,
    );
  });

  test('< and > in strings are escaped as \\u003c and \\u003e, and parse back', () => {
    const attribution = '<a href="https://www.geonames.org/">GeoNames</a>';
    const text = formatGoogleJson([attribution]);
    assert.equal(text, '[ "\\u003ca href=\\"https://www.geonames.org/\\"\\u003eGeoNames\\u003c/a\\u003e" ]');
    assert.deepEqual(JSON.parse(text), [attribution]);
  });

  test('property: without arrays of scalars, the layout is JSON.stringify with a 3-space indent and " : " after keys', () => {
    // Strings without quote, colon or backslash, so that '": ' in JSON.stringify's output only ever
    // follows a key.
    const plain = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '_', 'é', '1', '\n', '{', ']', ','), maxLength: 6 });
    const leaf = fc.oneof(
      plain,
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    // Arrays hold only containers here: arrays of scalars have their own (inline) layout.
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
      array: fc.array(fc.oneof({ depthSize: 'small' }, fc.constant([]), tie('object')), { maxLength: 4 }),
      object: fc.dictionary(plain, tie('value'), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(value, (v) => {
        assert.equal(formatGoogleJson(v), JSON.stringify(v, null, 3).replaceAll('": ', '" : '));
      }),
      FC,
    );
  });
});
