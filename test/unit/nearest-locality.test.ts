/**
 * The vicinity of a place whose input has none: the nearest populated place of the built-in data,
 * found by the offline search's own index (src/places/offline/search.ts `nearest`), checked against
 * a scan of every place.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadPlacesData, type PlacesData } from '../../src/places/offline/data-file.js';
import { haversine } from '../../src/places/offline/great-circle.js';
import { PlacesSearch } from '../../src/places/offline/search.js';
import { NearestLocality } from '../../src/places/import/nearest-locality.js';
import { DEFAULT_PLACES_DATA_FILE } from '../../src/places/settings.js';

describe('the nearest populated place', () => {
  let data: PlacesData;
  let localities: NearestLocality;
  before(async () => {
    data = await loadPlacesData(DEFAULT_PLACES_DATA_FILE);
    localities = await NearestLocality.open();
  });
  after(async () => {
    await data.handle.close();
    await localities.close();
  });

  test('names the town of a point beside it, as "<name>, <country code>"', () => {
    assert.equal(localities.vicinityAt(64.1466, -21.9426), 'Reykjavík, IS');
    assert.equal(localities.vicinityAt(34.0689, -118.4452), 'Westwood, US');
    // Far from everything (the South Pole) there is still a nearest one.
    assert.match(localities.vicinityAt(-90, 0) ?? '', /, AQ$/);
  });

  test('is the place at the least great-circle distance, as a scan of every place finds it', () => {
    const search = new PlacesSearch(data);
    const { count, coordinates } = data;
    fc.assert(
      fc.property(
        fc.double({ min: -90, max: 90, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true }),
        (lat, lng) => {
          let best = Infinity;
          for (let i = 0; i < count; i++) {
            const h = haversine(lat, lng, coordinates[2 * i + 1] as number, coordinates[2 * i] as number);
            if (h < best) best = h;
          }
          const found = search.nearest(lat, lng);
          assert.ok(found >= 0);
          const h = haversine(lat, lng, coordinates[2 * found + 1] as number, coordinates[2 * found] as number);
          assert.ok(h <= best * (1 + 1e-9), `${lat},${lng}: found ${h}, the scan ${best}`);
        },
      ),
      { seed: 20, numRuns: 40 },
    );
  });
});
