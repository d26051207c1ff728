/**
 * Places look-ups as WHATSAT makes them (src/server/places-lookup.ts): the bound applied once, a
 * source that hangs answered UNKNOWN_ERROR at the time limit (hand-moved timers), and the formatted
 * answers of a deterministic source reused byte for byte, never a failure and never Google's.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/observability/logger.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import type { NearbySearchResponse, PlacesProvider } from '../../src/places/provider.js';
import { formatGoogleJson } from '../../src/protocol/google-json.js';
import { PlacesLookup } from '../../src/server/places-lookup.js';
import { formatWhatsatBody, normalizeJsonNewlines } from '../../src/protocol/commands.js';
import { ManualTimers } from '../helpers/manual-timers.js';

/** The stored AT line of a client, and its location. */
const KIWI = 'AT Alford +0.000000001 kiwi +34.068930-118.445127 1700000000';
const KIWI_POINT = { latitude: 34.06893, longitude: -118.445127 };
/** The same client, elsewhere. */
const KIWI_MOVED = 'AT Alford +0.000000001 kiwi +34.07-118.445127 1700000001';

function places(count: number, status = 'OK'): NearbySearchResponse {
  return {
    html_attributions: [],
    results: Array.from({ length: count }, (_, i) => ({
      geometry: { location: { lat: i, lng: i } },
      name: `Place ${i}`,
      place_id: `p${i}`,
      types: ['locality'],
    })),
    status,
  };
}

function source(answer: () => Promise<NearbySearchResponse>, deterministic: boolean) {
  const calls: [number, number][] = [];
  const provider: PlacesProvider = {
    source: deterministic ? 'offline' : 'google',
    deterministic,
    nearby: (_location, radiusMeters, limit) => {
      calls.push([radiusMeters, limit]);
      return answer();
    },
  };
  return { provider, calls };
}

function lookup(provider: PlacesProvider, timers = new ManualTimers(), observer = NOOP_OBSERVER) {
  return new PlacesLookup({
    places: provider,
    timeoutMs: 1000,
    logger: silentLogger(),
    observer,
    timers,
  });
}

describe('PlacesLookup', () => {
  test('keeps the first `bound` results of a source that answers more', async () => {
    const { provider } = source(async () => places(20), false);
    const { response } = await lookup(provider).lookUp(KIWI_POINT, 10_000, 5, 'kiwi');
    assert.deepEqual(
      response.results.map((r) => r.place_id),
      ['p0', 'p1', 'p2', 'p3', 'p4'],
    );
  });

  test('a source that never answers gets UNKNOWN_ERROR at the time limit', async () => {
    const timers = new ManualTimers();
    const { provider } = source(() => new Promise(() => undefined), false);
    const pending = lookup(provider, timers).lookUp(KIWI_POINT, 10_000, 5, 'kiwi');
    timers.advance(999);
    await new Promise((resolve) => setImmediate(resolve));
    timers.advance(1);
    const { response } = await pending;
    assert.equal(response.status, 'UNKNOWN_ERROR');
    assert.match(response.error_message ?? '', /did not answer within 1000 ms/);
    assert.equal(timers.pending, 0);
  });

  test('a deterministic source: an identical look-up reuses the formatted answer, another is asked anew', async () => {
    const { provider, calls } = source(async () => places(3), true);
    const places1 = lookup(provider);
    const first = await places1.lookUpJson(KIWI, 10_000, 5);
    const again = await places1.lookUpJson(KIWI, 10_000, 5);
    assert.equal(calls.length, 1);
    assert.equal(again.body, first.body);
    assert.deepEqual(first.body, formatWhatsatBody(normalizeJsonNewlines(formatGoogleJson(places(3)))));
    assert.equal(again.places.cached, true);
    assert.equal(first.places.cached, undefined);
    await places1.lookUpJson(KIWI, 5_000, 5);
    await places1.lookUpJson(KIWI, 10_000, 4);
    await places1.lookUpJson(KIWI_MOVED, 10_000, 5);
    assert.equal(calls.length, 4);
  });

  test('failures are never reused, and a source that is not deterministic is always asked', async () => {
    const failing = source(async () => places(0, 'UNKNOWN_ERROR'), true);
    const f = lookup(failing.provider);
    await f.lookUpJson(KIWI, 10_000, 5);
    await f.lookUpJson(KIWI, 10_000, 5);
    assert.equal(failing.calls.length, 2);
    const google = source(async () => places(3), false);
    const g = lookup(google.provider);
    await g.lookUpJson(KIWI, 10_000, 5);
    await g.lookUpJson(KIWI, 10_000, 5);
    assert.equal(google.calls.length, 2);
  });

  test('cachedJson answers at once what lookUpJson kept, counted as a look-up, and nothing else', async () => {
    const counted: [string, string, number][] = [];
    const observer = {
      ...NOOP_OBSERVER,
      placesLookup: (s: string, st: string, ms: number) => counted.push([s, st, ms]),
    };
    const { provider, calls } = source(async () => places(3), true);
    const kept = lookup(provider, new ManualTimers(), observer);
    assert.equal(kept.cachedJson(KIWI, 10_000, 5), undefined);
    assert.equal(counted.length, 0);
    const first = await kept.lookUpJson(KIWI, 10_000, 5);
    const hit = kept.cachedJson(KIWI, 10_000, 5);
    assert.equal(hit?.body, first.body);
    assert.equal(hit?.places.cached, true);
    assert.deepEqual(counted.at(-1), ['offline', 'OK', 0]);
    assert.equal(kept.cachedJson(KIWI, 10_000, 4), undefined);
    assert.equal(kept.cachedJson(KIWI_MOVED, 10_000, 5), undefined);
    assert.equal(calls.length, 1);
    const google = source(async () => places(3), false);
    const g = lookup(google.provider);
    await g.lookUpJson(KIWI, 10_000, 5);
    assert.equal(g.cachedJson(KIWI, 10_000, 5), undefined);
  });
});
