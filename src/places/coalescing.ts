/**
 * A places source in front of another: identical concurrent look-ups share one upstream request, and
 * an optional TTL cache (lru-cache) answers repeats. Used in front of the Google sources, where every
 * request costs money and quota; the cache is off by default because Google's terms allow caching
 * only `place_id` and (for 30 days) coordinates (docs/places.md "Caching").
 */
import { LRUCache } from 'lru-cache';
import { SYSTEM_TIMERS, type Timers } from '../core/timers.js';
import { MAX_BOUND } from '../protocol/commands.js';
import type { LatLng } from '../protocol/location.js';
import type { NearbySearchResponse, PlacesProvider } from './provider.js';

/** Most results any source is asked for: the largest WHATSAT bound. */
export const MAX_RESULTS = MAX_BOUND;
/** Decimal places a radius in metres is rounded to (1 cm): `1.1 * 1000` is `1100.0000000000002`. */
export const RADIUS_DECIMALS = 2;

/** Options of a {@link CoalescingPlacesProvider}. */
export interface CoalescingOptions {
  /** Decimal places latitude and longitude are rounded to before the look-up and in its key, 0-10. */
  readonly locationDecimals: number;
  /**
   * Whether the upstream request depends on the bound (Places API (New) sends it as
   * `maxResultCount`). When false, the inner source is always asked for {@link MAX_RESULTS}, so
   * look-ups that differ only in the bound share a request (the server cuts each to its bound).
   */
  readonly limitInKey: boolean;
  /** Cache successful (`OK` / `ZERO_RESULTS`) responses; absent = no cache. */
  readonly cache?: {
    /** Lifetime of an entry, ms. */
    readonly ttlMs: number;
    /** Most entries; the least recently used goes first. */
    readonly maxEntries: number;
  };
  /** The clock entries age by (tests move it by hand). @default {@link SYSTEM_TIMERS} */
  readonly timers?: Pick<Timers, 'now'>;
}

/** `value` rounded to `decimals` places, as `Number#toFixed` rounds. */
export function roundTo(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}

/** Counters of a {@link CoalescingPlacesProvider}, for tests and metrics. */
export interface CoalescingStats {
  /** Look-ups asked of this source. */
  lookups: number;
  /** Requests sent to the inner source. */
  upstream: number;
  /** Look-ups that joined a request already in flight. */
  coalesced: number;
  /** Look-ups answered from the cache. */
  cacheHits: number;
}

/**
 * Wraps a source so that look-ups with the same key (source, rounded location, rounded radius, and
 * the bound when {@link CoalescingOptions.limitInKey}) share one request while it is in flight, and,
 * with a cache, are answered from it for `ttlMs`. Failures are shared by the callers in flight but
 * never cached. Callers of one request share its (read-only) response; the server keeps the first
 * `bound` results of each WHATSAT (src/server/places-lookup.ts).
 */
export class CoalescingPlacesProvider implements PlacesProvider {
  readonly source: string;
  /** Counters since creation. */
  readonly stats: CoalescingStats = { lookups: 0, upstream: 0, coalesced: 0, cacheHits: 0 };
  private readonly inner: PlacesProvider;
  private readonly options: CoalescingOptions;
  private readonly inFlight = new Map<string, Promise<NearbySearchResponse>>();
  private readonly cache: LRUCache<string, NearbySearchResponse> | undefined;

  constructor(inner: PlacesProvider, options: CoalescingOptions) {
    this.inner = inner;
    this.source = inner.source;
    this.options = options;
    this.cache =
      options.cache === undefined
        ? undefined
        : new LRUCache({
            max: options.cache.maxEntries,
            ttl: options.cache.ttlMs,
            // Every read asks the clock (no cached time behind a real timer), so an injected clock rules.
            perf: options.timers ?? SYSTEM_TIMERS,
            ttlResolution: 0,
          });
  }

  /** The key of a look-up: what decides the upstream request. */
  keyOf(location: LatLng, radiusMeters: number, limit: number): string {
    const key = `${this.source}|${location.latitude},${location.longitude}|${radiusMeters}`;
    return this.options.limitInKey ? `${key}|${limit}` : key;
  }

  async nearby(location: LatLng, radiusMeters: number, limit: number): Promise<NearbySearchResponse> {
    this.stats.lookups++;
    const decimals = this.options.locationDecimals;
    const rounded: LatLng = {
      latitude: roundTo(location.latitude, decimals),
      longitude: roundTo(location.longitude, decimals),
    };
    // Never round a positive radius down to 0, which Google rejects.
    const radius = Math.max(roundTo(radiusMeters, RADIUS_DECIMALS), 10 ** -RADIUS_DECIMALS);
    const key = this.keyOf(rounded, radius, limit);
    const cached = this.cache?.get(key);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      return cached;
    }
    let shared = this.inFlight.get(key);
    if (shared === undefined) {
      this.stats.upstream++;
      shared = this.inner.nearby(rounded, radius, this.options.limitInKey ? limit : MAX_RESULTS).then((response) => {
        if (this.cache !== undefined && (response.status === 'OK' || response.status === 'ZERO_RESULTS'))
          this.cache.set(key, response);
        return response;
      });
      const settled = (): void => {
        if (this.inFlight.get(key) === shared) this.inFlight.delete(key);
      };
      shared.then(settled, settled);
      this.inFlight.set(key, shared);
    } else {
      this.stats.coalesced++;
    }
    return shared;
  }

  async ready(): Promise<void> {
    await this.inner.ready?.();
  }

  /** Closes the inner source and empties the cache. */
  async close(): Promise<void> {
    this.cache?.clear();
    await this.inner.close?.();
  }
}
