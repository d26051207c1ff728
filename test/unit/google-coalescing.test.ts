/** Coalescing identical look-ups and the optional TTL cache in front of a places source. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescingPlacesProvider, roundTo } from '../../src/places/coalescing.js';
import { failedNearbySearch, type NearbySearchResponse, type PlacesProvider } from '../../src/places/provider.js';
import type { LatLng } from '../../src/protocol/location.js';
import { ManualTimers } from '../helpers/manual-timers.js';

/** A source whose look-ups stay pending until the test settles them. */
class GatedPlaces implements PlacesProvider {
  readonly source = 'gated';
  readonly calls: {
    location: LatLng;
    radiusMeters: number;
    limit: number;
    settle: (response: NearbySearchResponse) => void;
  }[] = [];
  closed = false;
  nearby(location: LatLng, radiusMeters: number, limit: number): Promise<NearbySearchResponse> {
    return new Promise((settle) => this.calls.push({ location, radiusMeters, limit, settle }));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const ok = (count: number): NearbySearchResponse => ({
  html_attributions: [],
  results: Array.from({ length: count }, (_, i) => ({
    geometry: { location: { lat: i, lng: i } },
    name: `p${i}`,
    place_id: `p${i}`,
    types: [],
  })),
  status: 'OK',
});

const here: LatLng = { latitude: 34.06893, longitude: -118.445127 };

describe('CoalescingPlacesProvider', () => {
  test('identical concurrent look-ups share one request and its answer, whatever their bounds', async () => {
    const inner = new GatedPlaces();
    const places = new CoalescingPlacesProvider(inner, { locationDecimals: 6, limitInKey: false });
    const a = places.nearby(here, 1000, 2);
    const b = places.nearby({ latitude: 34.0689301, longitude: -118.4451269 }, 1000, 5);
    assert.equal(inner.calls.length, 1);
    // Without the bound in the key, the inner source is asked for a full page.
    assert.deepEqual(
      { ...inner.calls[0], settle: undefined },
      { location: { latitude: 34.06893, longitude: -118.445127 }, radiusMeters: 1000, limit: 20, settle: undefined },
    );
    inner.calls[0]?.settle(ok(7));
    const [ra, rb] = await Promise.all([a, b]);
    // One answer of the full page for both: the server keeps each WHATSAT's own bound.
    assert.equal(ra.results.length, 7);
    assert.equal(ra, rb);
    assert.deepEqual(places.stats, { lookups: 2, upstream: 1, coalesced: 1, cacheHits: 0 });
  });

  test('with limitInKey, different bounds are different requests', async () => {
    const inner = new GatedPlaces();
    const places = new CoalescingPlacesProvider(inner, { locationDecimals: 6, limitInKey: true });
    const a = places.nearby(here, 1000, 2);
    const b = places.nearby(here, 1000, 3);
    const c = places.nearby(here, 1000, 3);
    assert.deepEqual(
      inner.calls.map((call) => call.limit),
      [2, 3],
    );
    inner.calls[0]?.settle(ok(2));
    inner.calls[1]?.settle(ok(3));
    assert.deepEqual(
      (await Promise.all([a, b, c])).map((r) => r.results.length),
      [2, 3, 3],
    );
  });

  test('a different radius or a location apart after rounding is another request', () => {
    const inner = new GatedPlaces();
    const places = new CoalescingPlacesProvider(inner, { locationDecimals: 3, limitInKey: false });
    void places.nearby(here, 1000, 1);
    void places.nearby(here, 1000.001, 1); // the same after rounding the radius to 1 cm
    void places.nearby(here, 2000, 1);
    void places.nearby({ latitude: 34.07, longitude: -118.445 }, 1000, 1);
    assert.equal(inner.calls.length, 3);
    assert.deepEqual(inner.calls[0]?.location, { latitude: 34.069, longitude: -118.445 });
    for (const call of inner.calls) call.settle(ok(0));
  });

  test('a settled look-up is not shared: the next one is a new request (no cache)', async () => {
    const inner = new GatedPlaces();
    const places = new CoalescingPlacesProvider(inner, { locationDecimals: 6, limitInKey: false });
    const first = places.nearby(here, 1000, 1);
    inner.calls[0]?.settle(ok(1));
    await first;
    const second = places.nearby(here, 1000, 1);
    assert.equal(inner.calls.length, 2);
    inner.calls[1]?.settle(ok(1));
    await second;
  });

  test('the cache answers repeats within the TTL, never caches failures, and expires', async () => {
    const inner = new GatedPlaces();
    const timers = new ManualTimers();
    // lru-cache takes a start time of 0 for "no TTL": the clock starts later than that.
    timers.advance(1000);
    const places = new CoalescingPlacesProvider(inner, {
      locationDecimals: 6,
      limitInKey: false,
      cache: { ttlMs: 60, maxEntries: 10 },
      timers,
    });
    const failing = places.nearby(here, 500, 1);
    inner.calls[0]?.settle(failedNearbySearch('OVER_QUERY_LIMIT', 'quota'));
    assert.equal((await failing).status, 'OVER_QUERY_LIMIT');
    const first = places.nearby(here, 500, 1);
    assert.equal(inner.calls.length, 2, 'a failure is not cached');
    inner.calls[1]?.settle(ok(3));
    await first;
    const cached = await places.nearby(here, 500, 3);
    assert.equal(cached.results.length, 3);
    assert.equal(inner.calls.length, 2, 'answered from the cache');
    assert.equal(places.stats.cacheHits, 1);
    timers.advance(59);
    await places.nearby(here, 500, 1);
    assert.equal(inner.calls.length, 2, 'still fresh 59 ms later');
    timers.advance(2);
    const expired = places.nearby(here, 500, 1);
    assert.equal(inner.calls.length, 3, 'expired after the TTL');
    inner.calls[2]?.settle(ok(1));
    await expired;
  });

  test('a rejected inner look-up rejects every caller in flight and is not kept', async () => {
    const inner: PlacesProvider = { source: 'broken', nearby: () => Promise.reject(new Error('boom')) };
    const places = new CoalescingPlacesProvider(inner, { locationDecimals: 6, limitInKey: false });
    await assert.rejects(Promise.all([places.nearby(here, 1, 1), places.nearby(here, 1, 1)]), /boom/);
    await assert.rejects(places.nearby(here, 1, 1), /boom/);
    assert.equal(places.stats.upstream, 2);
  });

  test('close() closes the inner source; source names pass through', async () => {
    const inner = new GatedPlaces();
    const places = new CoalescingPlacesProvider(inner, { locationDecimals: 6, limitInKey: false });
    assert.equal(places.source, 'gated');
    await places.close();
    assert.equal(inner.closed, true);
  });

  test('roundTo', () => {
    assert.equal(roundTo(34.0689304, 6), 34.06893);
    assert.equal(roundTo(1.1 * 1000, 2), 1100);
    assert.equal(roundTo(-118.4451265, 0), -118);
  });
});
