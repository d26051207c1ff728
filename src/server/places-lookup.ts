/**
 * A places look-up as the server makes it: the source asked within `limits.placesTimeoutMs`, any
 * failure turned into a Nearby Search document with a non-OK `status` (docs/protocol.md "WHATSAT": a
 * WHATSAT is never left unanswered), the bound applied, and one metric per look-up. A successful
 * look-up is logged with the command that made it (its `places` field); a failed one also gets a
 * `places` warning of its own, with Google's error message.
 */
import type { Timers, TimerHandle } from '../core/timers.js';
import { PlacesError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';
import {
  failedNearbySearch,
  type NearbySearchResponse,
  type NearbySearchStatus,
  type PlacesProvider,
} from '../places/provider.js';
import type { LocationRecord } from '../store/location-store.js';

/** Options of {@link PlacesLookup}. */
export interface PlacesLookupOptions {
  readonly places: PlacesProvider;
  /** Longest wait for the source, ms; then `UNKNOWN_ERROR`. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly observer: ServerObserver;
  readonly timers: Timers;
}

/** What a look-up found, and how long it took: the `places` field of a WHATSAT's log event. */
export interface PlacesAnswer {
  readonly response: NearbySearchResponse;
  /** The source's name (`offline`, `google`, `google-new`). */
  readonly source: string;
  /** Milliseconds from asking to answer (time-outs included), three decimals. */
  readonly ms: number;
}

/** Asks a {@link PlacesProvider} on behalf of WHATSAT. */
export class PlacesLookup {
  private readonly options: PlacesLookupOptions;

  constructor(options: PlacesLookupOptions) {
    this.options = options;
  }

  /**
   * The places within `radiusMeters` of the record's location, the first `limit` of what the source
   * answers. Never rejects.
   */
  async lookUp(record: LocationRecord, radiusMeters: number, limit: number): Promise<PlacesAnswer> {
    const { places, timeoutMs, timers, logger, observer } = this.options;
    const started = timers.now();
    let timer: TimerHandle | undefined;
    let response: NearbySearchResponse;
    try {
      response = await Promise.race([
        places.nearby({ latitude: record.latitude, longitude: record.longitude }, radiusMeters, limit),
        new Promise<never>((_, reject) => {
          timer = timers.setTimeout(
            () =>
              reject(
                new PlacesError(
                  'UNKNOWN_ERROR',
                  `places source ${places.source} did not answer within ${timeoutMs} ms`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      const status = (error instanceof PlacesError ? error.status : 'UNKNOWN_ERROR') as NearbySearchStatus;
      response = failedNearbySearch(status, error instanceof Error ? error.message : String(error));
    } finally {
      timers.clearTimeout(timer);
    }
    // The one place the WHATSAT bound is applied: sources may answer more (src/places/provider.ts).
    if (response.results.length > limit) response = { ...response, results: response.results.slice(0, limit) };
    const elapsedMs = timers.now() - started;
    observer.placesLookup(places.source, response.status, elapsedMs);
    const ms = Math.round(elapsedMs * 1000) / 1000;
    if (response.status !== 'OK' && response.status !== 'ZERO_RESULTS') {
      logger.warn(
        {
          event: 'places',
          source: places.source,
          clientId: record.clientId,
          radiusMeters,
          limit,
          status: response.status,
          ms,
          error: response.error_message,
        },
        `places ${response.status} in ${ms} ms`,
      );
    }
    return { response, source: places.source, ms };
  }
}
