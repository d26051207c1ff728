/**
 * The offline search against a brute-force scan (issue 11): for random points and radii, the results
 * are exactly the places within the radius by great-circle distance, ordered by the ranking rule
 * (prominence descending, then distance ascending) and cut to the bound. Both sides use the same
 * haversine (src/places/offline/great-circle.ts), so there is no boundary epsilon. The data has many
 * ties (small integer prominences, duplicated points) and clusters at both poles and on both sides of
 * the antimeridian; it is imported through sorted runs on disk. Also: data files that are not whole.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { PlacesDataError, PlacesError } from '../../src/errors.js';
import { importPlaces } from '../../src/places/import/import-places.js';
import { loadPlacesData } from '../../src/places/offline/data-file.js';
import { haversine, haversineOfMeters } from '../../src/places/offline/great-circle.js';
import { OfflinePlacesProvider } from '../../src/places/offline/offline-provider.js';
import type { NearbySearchResponse } from '../../src/places/provider.js';
import type { LatLng } from '../../src/protocol/location.js';
import { seededRandom } from '../helpers/herd-process.js';
import { featureCollection, point, put, tempDir } from '../helpers/places-fixtures.js';

interface Place {
  readonly id: string;
  readonly lat: number;
  readonly lng: number;
  readonly prominence: number;
}

/** Cluster centres: the poles, both sides of the antimeridian, the origin, a city. */
const CENTRES: readonly (readonly [number, number])[] = [
  [89.95, 30],
  [-89.97, -100],
  [10, 179.98],
  [-10, -179.97],
  [65, 180],
  [0, 0],
  [34.05, -118.24],
];

function makePlaces(count: number): Place[] {
  const rand = seededRandom(11);
  const places: Place[] = [];
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  for (let i = 0; i < count; i++) {
    let lat: number;
    let lng: number;
    if (i % 20 === 19 && places.length > 0) {
      // An exact duplicate of an earlier place's point.
      const twin = places[Math.floor(rand() * places.length)] as Place;
      ({ lat, lng } = twin);
    } else if (rand() < 0.8) {
      const [clat, clng] = CENTRES[i % CENTRES.length] as readonly [number, number];
      lat = Math.max(-90, Math.min(90, clat + gaussian() * 0.15));
      lng = clng + gaussian() * 0.15;
      if (lng > 180) lng -= 360;
      if (lng < -180) lng += 360;
    } else {
      lat = -90 + rand() * 180;
      lng = -180 + rand() * 360;
    }
    const prominence = rand() < 0.8 ? Math.floor(rand() * 5) : Math.round(rand() * 1e6) / 10;
    places.push({ id: `p${i}`, lat, lng, prominence });
  }
  return places;
}

const PLACES = makePlaces(3000);
const byId = new Map(PLACES.map((place) => [place.id, place]));

/** Brute force: every place within the radius, best first by (prominence desc, haversine asc). */
function bruteForce(center: LatLng, radiusMeters: number): { place: Place; h: number }[] {
  const hMax = haversineOfMeters(radiusMeters);
  return PLACES.map((place) => ({ place, h: haversine(center.latitude, center.longitude, place.lat, place.lng) }))
    .filter(({ h }) => h <= hMax)
    .sort((a, b) => b.place.prominence - a.place.prominence || a.h - b.h);
}

function check(response: NearbySearchResponse, center: LatLng, radiusMeters: number, limit: number): void {
  const expected = bruteForce(center, radiusMeters);
  const count = Math.min(limit, expected.length);
  assert.equal(response.results.length, count);
  assert.equal(response.status, count > 0 ? 'OK' : 'ZERO_RESULTS');
  const got = response.results.map((result) => {
    const place = byId.get(result.place_id);
    assert.ok(place !== undefined, result.place_id);
    assert.deepEqual(result.geometry.location, { lat: place.lat, lng: place.lng });
    return { place, h: haversine(center.latitude, center.longitude, place.lat, place.lng) };
  });
  // The same (prominence, distance) sequence: places tied on both may come in either order.
  assert.deepEqual(
    got.map(({ place, h }) => [place.prominence, h]),
    expected.slice(0, count).map(({ place, h }) => [place.prominence, h]),
  );
  assert.equal(new Set(got.map(({ place }) => place.id)).size, count, 'no place twice');
}

describe('offline search vs brute force', () => {
  let provider: OfflinePlacesProvider;
  let dir: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const features = PLACES.map((place) =>
      point(place.lng, place.lat, { name: place.id, place_id: place.id, prominence: place.prominence }),
    );
    const input = await put(dir, 'random.geojson', featureCollection(features));
    const out = path.join(dir, 'random.places');
    // Small chunks: the file comes out of a merge of sorted runs.
    await importPlaces({ inputs: [input], out, sorter: { chunkPlaces: 256 } });
    provider = new OfflinePlacesProvider({ file: out });
    await provider.ready();
  });
  after(async () => {
    await provider?.close();
    await cleanup?.();
  });

  test('property: random points, radii and bounds agree with the brute-force scan', () => {
    const nearPlace = fc
      .tuple(fc.nat(), fc.double({ min: -0.3, max: 0.3, noNaN: true }), fc.double({ min: -0.3, max: 0.3, noNaN: true }))
      .map(([i, dLat, dLng]) => {
        const place = PLACES[i % PLACES.length] as Place;
        let longitude = place.lng + dLng;
        if (longitude > 180) longitude -= 360;
        if (longitude < -180) longitude += 360;
        return { latitude: Math.max(-90, Math.min(90, place.lat + dLat)), longitude };
      });
    const antimeridian = fc.record({
      latitude: fc.double({ min: -89, max: 89, noNaN: true }),
      longitude: fc.oneof(
        fc.double({ min: 179.5, max: 180, noNaN: true }),
        fc.double({ min: -180, max: -179.5, noNaN: true }),
      ),
    });
    const pole = fc.record({
      latitude: fc.oneof(
        fc.double({ min: 89.5, max: 90, noNaN: true }),
        fc.double({ min: -90, max: -89.5, noNaN: true }),
      ),
      longitude: fc.double({ min: -180, max: 180, noNaN: true }),
    });
    const anywhere = fc.record({
      latitude: fc.double({ min: -90, max: 90, noNaN: true }),
      longitude: fc.double({ min: -180, max: 180, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.oneof(nearPlace, nearPlace, antimeridian, pole, anywhere),
        fc.double({ min: 1, max: 50_000, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        (center, radiusMeters, limit) => {
          check(provider.nearbySync(center, radiusMeters, limit), center, radiusMeters, limit);
        },
      ),
      { seed: 11, numRuns: 400 },
    );
  });

  test('a point exactly on the radius is in; a hair further out is not', () => {
    // The most prominent place: first whenever it is within the radius.
    const place = PLACES.reduce((best, p) => (p.prominence > best.prominence ? p : best));
    const center = { latitude: place.lat + 0.05, longitude: place.lng };
    const h = haversine(center.latitude, center.longitude, place.lat, place.lng);
    // The radius whose haversine is exactly h (or the next representable above it).
    let radius = 2 * 6_371_000 * Math.asin(Math.sqrt(h));
    while (haversineOfMeters(radius) < h) radius = radius * (1 + 1e-15);
    const ids = (r: number) => provider.nearbySync(center, r, 20).results.map((result) => result.place_id);
    check(provider.nearbySync(center, radius, 20), center, radius, 20);
    check(provider.nearbySync(center, radius * (1 - 1e-9), 20), center, radius * (1 - 1e-9), 20);
    assert.equal(ids(radius)[0], place.id);
    assert.ok(!ids(radius * (1 - 1e-6)).includes(place.id));
  });

  test('dense answers: a 50 km search among hundreds of candidates returns exactly the top 20', () => {
    const center = { latitude: 34.05, longitude: -118.24 };
    assert.ok(bruteForce(center, 50_000).length > 100);
    check(provider.nearbySync(center, 50_000, 20), center, 50_000, 20);
  });
});

describe('data files that are not whole', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let good: Buffer;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const input = await put(
      dir,
      'few.geojson',
      featureCollection([point(1, 2, { name: 'a' }), point(3, 4, { name: 'b' })]),
    );
    await importPlaces({ inputs: [input], out: path.join(dir, 'good.places') });
    good = await readFile(path.join(dir, 'good.places'));
  });
  after(() => cleanup());

  test('truncated, foreign or of another version: PlacesDataError naming the file', async () => {
    const cases: [string, Buffer, RegExp][] = [
      ['truncated.places', good.subarray(0, good.length - 10), /truncated or corrupt/],
      [
        'foreign.places',
        Buffer.from('PK\u0003\u0004 not a data file at all, but long enough to have a preamble.........'),
        /not a herd places data file/,
      ],
      ['empty.places', Buffer.alloc(0), /not a herd places data file/],
      [
        'v9.places',
        Buffer.concat([good.subarray(0, 8), Buffer.from([9, 0, 0, 0]), good.subarray(12)]),
        /format version 9, this herd reads version 1/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      await assert.rejects(loadPlacesData(file), (error: unknown) => {
        assert.ok(error instanceof PlacesDataError, String(error));
        assert.ok(error.message.startsWith(`${file}: `));
        assert.match(error.message, message);
        return true;
      });
    }
    await assert.rejects(loadPlacesData(path.join(dir, 'missing.places')), /cannot read: ENOENT/);
  });

  test('the header is read at the call (the big read is then under way): a file rewritten just after is judged by what it held', async () => {
    const file = path.join(dir, 'rewritten.places');
    await writeFile(file, Buffer.from('not a places data file, but long enough to have a preamble.............'));
    const loading = loadPlacesData(file);
    writeFileSync(file, good);
    await assert.rejects(loading, /not a herd places data file/);
  });

  test('a WHATSAT on a missing data file gets UNKNOWN_ERROR without the path', async () => {
    const provider = new OfflinePlacesProvider({ file: path.join(dir, 'missing.places') });
    await assert.rejects(provider.ready(), PlacesDataError);
    await assert.rejects(provider.nearby({ latitude: 0, longitude: 0 }, 1000, 5), (error: unknown) => {
      assert.ok(error instanceof PlacesError);
      assert.equal(error.status, 'UNKNOWN_ERROR');
      assert.ok(!error.message.includes(dir), error.message);
      return true;
    });
    await provider.close();
  });
});
