/**
 * The offline source's cache of result objects (src/places/offline/offline-provider.ts): bounded by
 * bytes, so that a server whose clients are all over the world stops growing once it is full (the
 * soak's WHATSATs meet about 330 new places a minute), and its estimate of a result's bytes checked
 * against the heap of the built-in data's places, each printed as a WHATSAT prints it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadPlacesData, type PlacesData } from '../../src/places/offline/data-file.js';
import { OfflinePlacesProvider, RESULT_CACHE_BYTES, resultBytes } from '../../src/places/offline/offline-provider.js';
import type { NearbySearchResult } from '../../src/places/provider.js';
import { DEFAULT_PLACES_DATA_FILE } from '../../src/places/settings.js';
import { formatGoogleJson } from '../../src/protocol/google-json.js';

/** Distinct places looked up: their results take about 2.5 MiB, over twice the bound. */
const PLACES = 2000;

/** The place the offline source answers at place `i`'s own point (1 m, one result). */
function lookUpAt(provider: OfflinePlacesProvider, data: PlacesData, i: number): NearbySearchResult {
  const location = { latitude: data.coordinates[2 * i + 1] as number, longitude: data.coordinates[2 * i] as number };
  const response = provider.nearbySync(location, 1, 1);
  // As a WHATSAT prints it: the text of each frozen result is kept with it (src/protocol/google-json.ts).
  formatGoogleJson(response);
  assert.equal(response.results.length, 1);
  return response.results[0] as NearbySearchResult;
}

/** The garbage collector, exposed for this process (as `node --expose-gc` would). */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('the offline result cache', () => {
  let data: PlacesData;
  before(async () => {
    data = await loadPlacesData(DEFAULT_PLACES_DATA_FILE);
  });
  after(async () => {
    await data?.handle.close();
  });

  test('holds at most RESULT_CACHE_BYTES: the least recent results go, the recent ones are reused', async () => {
    const provider = new OfflinePlacesProvider({ file: DEFAULT_PLACES_DATA_FILE });
    await provider.ready();
    try {
      const results: NearbySearchResult[] = [];
      let mostBytes = 0;
      for (let i = 0; i < PLACES; i++) {
        results.push(lookUpAt(provider, data, i));
        mostBytes = Math.max(mostBytes, provider.cachedResultBytes);
      }
      const first = results[0] as NearbySearchResult;
      const last = results[PLACES - 1] as NearbySearchResult;
      assert.equal(lookUpAt(provider, data, PLACES - 1), last, 'the last result is reused');
      const again = lookUpAt(provider, data, 0);
      assert.notEqual(again, first, 'the first result was dropped and made again');
      assert.deepEqual(again, first);
      assert.ok(mostBytes <= RESULT_CACHE_BYTES, `${mostBytes} bytes at most`);
      const largest = Math.max(...results.map(resultBytes));
      assert.ok(provider.cachedResultBytes > RESULT_CACHE_BYTES - largest, 'full');
    } finally {
      await provider.close();
    }
  });

  test('resultBytes is within 20% of what the results and their printed text take of the heap', async () => {
    const gc = collector();
    // The same work on other places first, so that the code it compiles and the type feedback it
    // gathers (both on the heap) are in place before the heap is measured: without it the measure
    // varied by about 15% from run to run.
    const warm = new OfflinePlacesProvider({ file: DEFAULT_PLACES_DATA_FILE, resultCacheBytes: 1 << 30 });
    await warm.ready();
    for (let i = PLACES + 1; i <= 2 * PLACES; i++) lookUpAt(warm, data, i);
    await warm.close();
    const provider = new OfflinePlacesProvider({ file: DEFAULT_PLACES_DATA_FILE, resultCacheBytes: 1 << 30 });
    await provider.ready();
    try {
      lookUpAt(provider, data, PLACES);
      const estimateBefore = provider.cachedResultBytes;
      gc();
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      for (let i = 0; i < PLACES; i++) lookUpAt(provider, data, i);
      gc();
      gc();
      const measured = process.memoryUsage().heapUsed - heapBefore;
      const estimated = provider.cachedResultBytes - estimateBefore;
      assert.ok(
        Math.abs(measured - estimated) <= 0.2 * measured,
        `measured ${measured} bytes, estimated ${estimated} for ${PLACES} places`,
      );
    } finally {
      await provider.close();
    }
  });
});
