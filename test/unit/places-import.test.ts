/**
 * `herd places import` on fixtures the tests write: GeoNames rows of every feature class, admin code
 * files, a zip as GeoNames ships one, GeoJSON. Then the offline source answers from the data file:
 * types, ranking (prominence, then nearer), radius and bound, ZERO_RESULTS, attributions. Malformed
 * input and `--skip-invalid`: places-import-errors.test.ts.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { GEONAMES_ATTRIBUTION, OSM_ATTRIBUTION } from '../../src/places/attributions.js';
import { importPlaces } from '../../src/places/import/import-places.js';
import { headerOffset } from '../../src/places/offline/data-format.js';
import { loadPlacesData } from '../../src/places/offline/data-file.js';
import { OfflinePlacesProvider } from '../../src/places/offline/offline-provider.js';
import type { NearbySearchResult } from '../../src/places/provider.js';
import {
  ADMIN1,
  ADMIN2,
  LA_DUMP as DUMP,
  LA_ROWS,
  README,
  UCLA,
  featureCollection,
  importFolder,
  point,
  put,
  writeZip,
} from '../helpers/places-fixtures.js';

const byName = (results: readonly NearbySearchResult[], name: string): NearbySearchResult => {
  const found = results.find((result) => result.name === name);
  assert.ok(found !== undefined, `${name} in ${results.map((r) => r.name).join(', ')}`);
  return found;
};

describe('herd places import', () => {
  const folder = importFolder();
  const { importAndOpen, track } = folder;

  describe('a GeoNames dump with admin code files', () => {
    let places: OfflinePlacesProvider;
    before(async () => {
      const dump = await put(folder.dir, 'LA.txt', DUMP);
      const admin1 = await put(folder.dir, 'admin1CodesASCII.txt', ADMIN1);
      const admin2 = await put(folder.dir, 'admin2Codes.txt', ADMIN2);
      // Admin files after the dump on the command line: they are still read first.
      places = await importAndOpen({ inputs: [dump, admin1, admin2], out: path.join(folder.dir, 'la.places') });
    });

    test('every row is a place with its Google types, from each feature class', () => {
      assert.equal(places.size, LA_ROWS.length);
      const everything = (lat: number, lng: number) => places.nearbySync({ latitude: lat, longitude: lng }, 50_000, 20);
      const types = new Map<string, readonly string[]>();
      for (const query of [
        everything(UCLA.latitude, UCLA.longitude),
        everything(34.2, -118.1),
        everything(33.8, -118.8),
      ])
        for (const result of query.results) types.set(result.name, result.types);
      assert.deepEqual(types.get('Los Angeles'), ['locality', 'political']);
      assert.deepEqual(types.get('Westwood'), ['neighborhood', 'political']);
      assert.deepEqual(types.get('Hotel Angeleno'), ['lodging', 'point_of_interest', 'establishment']);
      assert.deepEqual(types.get('University High School'), ['school', 'point_of_interest', 'establishment']);
      assert.deepEqual(types.get('University of California, Los Angeles'), [
        'university',
        'point_of_interest',
        'establishment',
      ]);
      assert.deepEqual(types.get('Ronald Reagan UCLA Medical Center'), [
        'hospital',
        'point_of_interest',
        'establishment',
      ]);
      assert.deepEqual(types.get('Los Angeles International Airport'), [
        'airport',
        'point_of_interest',
        'establishment',
      ]);
      assert.deepEqual(types.get('Holmby Park'), ['park', 'point_of_interest', 'establishment']);
      assert.deepEqual(types.get('Hammer Museum'), ['museum', 'point_of_interest', 'establishment']);
      assert.deepEqual(types.get('Cafe Near'), ['restaurant', 'point_of_interest', 'establishment']);
      assert.deepEqual(types.get('Stone Canyon Reservoir'), ['natural_feature']);
      assert.deepEqual(types.get('Mount Lee'), ['natural_feature']);
      assert.deepEqual(types.get('Los Angeles County'), ['administrative_area_level_2', 'political']);
      assert.deepEqual(types.get('Sunset Boulevard'), ['route']);
      assert.deepEqual(types.get('Santa Monica Basin'), ['natural_feature']);
      assert.deepEqual(types.get('Angeles National Forest'), ['natural_feature']);
    });

    test('results carry geonames place ids, exact coordinates and vicinity from the admin names', () => {
      const { results } = places.nearbySync(UCLA, 10_000, 20);
      const hotel = byName(results, 'Hotel Angeleno');
      assert.equal(hotel.place_id, 'geonames:1000002');
      assert.deepEqual(hotel.geometry, { location: { lat: 34.06556, lng: -118.4722 } });
      assert.equal(hotel.vicinity, 'Los Angeles County, California, US');
      assert.equal(byName(results, 'Santa Monica').vicinity, 'Santa Monica, Los Angeles County, California, US');
      assert.ok(Object.isFrozen(hotel) && Object.isFrozen(hotel.types), 'results are frozen, so their JSON is reused');
      const county = places.nearbySync({ latitude: 34.19801, longitude: -118.26102 }, 100, 1).results[0];
      assert.equal(county?.vicinity, 'Los Angeles County, California, US');
      assert.deepEqual(places.attributions, [GEONAMES_ATTRIBUTION]);
    });

    test('ranking: population, else alternate names; equal prominence goes to the nearer place', () => {
      const { results } = places.nearbySync(UCLA, 10_000, 20);
      const names = results.map((result) => result.name);
      assert.deepEqual(names.slice(0, 8), [
        'Santa Monica',
        'University of California, Los Angeles',
        'Hammer Museum',
        'Cafe Near',
        'Hotel Angeleno',
        'Cafe Far',
        'Ronald Reagan UCLA Medical Center',
        'Westwood',
      ]);
      // The rest have prominence 0: nearest first.
      assert.deepEqual(names.slice(8), [
        'Holmby Park', // 2.3 km
        'University High School', // 2.7 km
        'Stone Canyon Reservoir', // 3.5 km
        'Sunset Boulevard', // 8.9 km
      ]);
      assert.ok(!names.includes('Los Angeles'), 'downtown is 18 km away');
    });

    test('the radius and the bound: at most limit results, all within the radius', () => {
      assert.deepEqual(
        places.nearbySync(UCLA, 10_000, 3).results.map((r) => r.name),
        ['Santa Monica', 'University of California, Los Angeles', 'Hammer Museum'],
      );
      assert.deepEqual(
        places.nearbySync(UCLA, 1_100, 20).results.map((r) => r.name),
        ['University of California, Los Angeles', 'Hammer Museum', 'Cafe Near', 'Ronald Reagan UCLA Medical Center'],
      );
      const wide = places.nearbySync(UCLA, 50_000, 20);
      assert.equal(wide.results.length, LA_ROWS.length - 1, 'all but the basin, 60 km away');
      assert.equal(wide.results[0]?.name, 'Los Angeles County');
      assert.equal(wide.results[1]?.name, 'Los Angeles');
      assert.equal(places.nearbySync(UCLA, 50_000, 1).results.length, 1);
    });

    test('far away: ZERO_RESULTS, no results, the attribution still', async () => {
      const response = await places.nearby({ latitude: -40, longitude: -140 }, 50_000, 20);
      assert.deepEqual(response, { html_attributions: [GEONAMES_ATTRIBUTION], results: [], status: 'ZERO_RESULTS' });
    });
  });

  test('a zip as GeoNames ships it (XX.txt and readme.txt), without admin files: vicinity falls back', async () => {
    const zip = path.join(folder.dir, 'XX.zip');
    await writeZip(zip, { 'XX.txt': DUMP, 'readme.txt': README });
    const out = path.join(folder.dir, 'xx.places');
    const summary = await importPlaces({ inputs: [zip], out });
    assert.equal(summary.read, LA_ROWS.length);
    assert.equal(summary.kept, LA_ROWS.length);
    assert.deepEqual(summary.skipped, {});
    assert.deepEqual(summary.header.sources, [{ file: 'XX.zip', kind: 'geonames-zip', kept: LA_ROWS.length }]);
    const places = await track(new OfflinePlacesProvider({ file: out }));
    const { results } = places.nearbySync(UCLA, 10_000, 20);
    assert.equal(byName(results, 'Hotel Angeleno').vicinity, 'US');
    assert.equal(byName(results, 'Santa Monica').vicinity, 'Santa Monica, US');
  });

  test('GeoJSON: required name; types (else from OSM tags), prominence, place_id, vicinity with their defaults', async () => {
    const file = await put(
      folder.dir,
      'pois.geojson',
      featureCollection([
        point(-118.4452, 34.0689, {
          name: 'Blue Bottle Coffee',
          types: ['cafe', 'food', 'point_of_interest', 'establishment'],
          prominence: 50,
          place_id: 'ChIJ-blue-bottle',
          vicinity: '1 Westwood Plaza, Los Angeles',
        }),
        point(
          -118.4475,
          34.0631,
          {
            name: 'Corner Bakery',
            'addr:housenumber': '1090',
            'addr:street': 'Westwood Blvd',
            'addr:city': 'Los Angeles',
          },
          'node/42',
        ),
        point(-118.446, 34.066, { name: 'Kiosk' }),
        point(-118.444, 34.067, { name: 'Westwood Inn', tourism: 'hotel' }, 'node/43'),
        {
          type: 'Feature',
          geometry: {
            type: 'LineString',
            coordinates: [
              [-118.44, 34.06],
              [-118.45, 34.07],
            ],
          },
          properties: { name: 'A path' },
        },
        { type: 'Feature', geometry: null, properties: { name: 'Nowhere' } },
      ]),
    );
    const out = path.join(folder.dir, 'pois.places');
    const summary = await importPlaces({ inputs: [file], out });
    assert.equal(summary.read, 6);
    assert.equal(summary.kept, 4);
    assert.deepEqual(summary.skipped, { 'geometry is not a Point': 2 });
    assert.equal(summary.nearestVicinities, 2);
    const places = await track(new OfflinePlacesProvider({ file: out }));
    // The vicinities of the places without an address name GeoNames' populated places.
    assert.deepEqual(places.attributions, [GEONAMES_ATTRIBUTION, OSM_ATTRIBUTION]);
    const { results } = places.nearbySync(UCLA, 2_000, 20);
    assert.deepEqual(results[0], {
      geometry: { location: { lat: 34.0689, lng: -118.4452 } },
      name: 'Blue Bottle Coffee',
      place_id: 'ChIJ-blue-bottle',
      types: ['cafe', 'food', 'point_of_interest', 'establishment'],
      vicinity: '1 Westwood Plaza, Los Angeles',
    });
    const bakery = byName(results, 'Corner Bakery');
    assert.equal(bakery.place_id, 'pois:node/42');
    assert.equal(bakery.vicinity, '1090 Westwood Blvd, Los Angeles');
    assert.deepEqual(bakery.types, ['point_of_interest', 'establishment']);
    const kiosk = byName(results, 'Kiosk');
    assert.equal(kiosk.place_id, 'pois:2');
    // No vicinity and no address tags: the nearest populated place of the built-in data.
    assert.equal(kiosk.vicinity, 'Westwood, US');
    assert.ok(results.every((result) => result.vicinity !== undefined));
    // No properties.types: the OpenStreetMap tag decides (tourism=hotel).
    assert.deepEqual(byName(results, 'Westwood Inn').types, ['lodging', 'point_of_interest', 'establishment']);
  });

  test('mixed inputs make one data file: GeoNames zip, admin codes and GeoJSON, both attributions', async () => {
    const zip = path.join(folder.dir, 'US.zip');
    await writeZip(zip, { 'US.txt': DUMP, 'readme.txt': README });
    const admin1 = await put(folder.dir, 'admin1CodesASCII.txt', ADMIN1);
    const geojson = await put(
      folder.dir,
      'westwood.geojson',
      featureCollection([point(-118.4452, 34.0689, { name: 'Blue Bottle Coffee', prominence: 1000, types: ['cafe'] })]),
    );
    const out = path.join(folder.dir, 'mixed.places');
    const places = await importAndOpen({ inputs: [zip, geojson, admin1], out, attribution: '&copy; Westwood POIs' });
    assert.equal(places.size, LA_ROWS.length + 1);
    assert.deepEqual(places.attributions, [GEONAMES_ATTRIBUTION, '&copy; Westwood POIs']);
    const names = places.nearbySync(UCLA, 10_000, 3).results.map((r) => [r.name, r.place_id, r.vicinity]);
    assert.deepEqual(names, [
      ['Santa Monica', 'geonames:5393212', 'Santa Monica, California, US'],
      // No address in the input: the nearest populated place of the built-in data.
      ['Blue Bottle Coffee', 'westwood:0', 'Westwood, US'],
      ['University of California, Los Angeles', 'geonames:1000004', 'California, US'],
    ]);
  });

  test('sorted runs merged on disk give the same file as one in-memory chunk', async () => {
    const dump = await put(folder.dir, 'same.txt', DUMP);
    const inMemory = path.join(folder.dir, 'one-chunk.places');
    const merged = path.join(folder.dir, 'runs.places');
    await importPlaces({ inputs: [dump], out: inMemory });
    await importPlaces({ inputs: [dump], out: merged, sorter: { chunkPlaces: 4 } });
    const a = await readFile(inMemory);
    const b = await readFile(merged);
    const data = await loadPlacesData(inMemory);
    await data.handle.close();
    // Everything but the header's creation time is the same.
    const end = headerOffset(data.header.sections);
    assert.ok(a.subarray(64, end).equals(b.subarray(64, end)));
    assert.deepEqual(
      (await readdir(folder.dir)).filter((name) => /\.herd-import-|\.tmp-/.test(name)),
      [],
      'no temporary files or runs left',
    );
  });
});
