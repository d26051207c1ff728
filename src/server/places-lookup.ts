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
import { LRUCache } from 'lru-cache';
import { clientIdStartOf, readAtRecord, timeStartOf } from '../protocol/at-record.js';
import { textOfBinary } from '../protocol/bytes.js';
import { formatWhatsatBody, normalizeJsonNewlines } from '../protocol/commands.js';
import { formatGoogleJson } from '../protocol/google-json.js';
import type { LatLng } from '../protocol/location.js';

/** Most formatted answers of a deterministic source kept for reuse (see {@link PlacesLookup.lookUpJson}). */
export const PLACES_JSON_CACHE_ENTRIES = 4096;
/** Most bytes of formatted answers kept for reuse: 16 MiB. */
export const PLACES_JSON_CACHE_BYTES = 16 * 1024 * 1024;

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

/** A look-up's answer as the Nearby Search document a WHATSAT prints. */
export interface PlacesJson {
  /**
   * The document, printed as Google prints it (src/protocol/google-json.ts) in UTF-8, with its
   * newlines as a WHATSAT reply has them and the reply's ending: the finished bytes of the reply after
   * its AT line (`formatWhatsatBody`). Shared by every reply that uses it: never to be changed.
   */
  readonly body: Buffer;
  /** What goes into the WHATSAT's log event. */
  readonly places: {
    readonly source: string;
    readonly status: string;
    readonly results: number;
    readonly ms: number;
    /** The formatted answer of an identical earlier look-up was reused. */
    readonly cached?: true;
  };
}

/** The key of a kept document: the location's text (as the AT line has it), the radius and the bound. */
function cacheKeyOf(atLine: string, radiusMeters: number, limit: number): string {
  const locationStart = atLine.indexOf(' ', clientIdStartOf(atLine)) + 1;
  return `${atLine.slice(locationStart, timeStartOf(atLine) - 1)} ${radiusMeters} ${limit}`;
}

/** Asks a {@link PlacesProvider} on behalf of WHATSAT. */
export class PlacesLookup {
  private readonly options: PlacesLookupOptions;
  /** Formatted successful answers of a deterministic source, by location, radius and bound. */
  private readonly jsonCache: LRUCache<string, PlacesJson> | undefined;

  constructor(options: PlacesLookupOptions) {
    this.options = options;
    this.jsonCache =
      options.places.deterministic === true
        ? new LRUCache({
            max: PLACES_JSON_CACHE_ENTRIES,
            maxSize: PLACES_JSON_CACHE_BYTES,
            sizeCalculation: (answer) => Math.max(1, answer.body.length),
          })
        : undefined;
  }

  /**
   * {@link lookUp} for the client whose stored AT line is `atLine`, formatted as the WHATSAT reply's
   * document. For a deterministic source (the offline data) an identical earlier look-up's document
   * is reused, found by the location's text, so a client polling from where it stands costs neither
   * a search nor a print, nor reading its numbers. Never rejects.
   */
  async lookUpJson(atLine: string, radiusMeters: number, limit: number): Promise<PlacesJson> {
    const cache = this.jsonCache;
    let key = '';
    if (cache !== undefined) {
      key = cacheKeyOf(atLine, radiusMeters, limit);
      const hit = this.kept(cache.get(key));
      if (hit !== undefined) return hit;
    }
    const record = readAtRecord(atLine);
    const { response, source, ms } = await this.lookUp(record, radiusMeters, limit, textOfBinary(record.clientId));
    const answer: PlacesJson = {
      body: formatWhatsatBody(normalizeJsonNewlines(formatGoogleJson(response))),
      places: { source, status: response.status, results: response.results.length, ms },
    };
    if (cache !== undefined && (response.status === 'OK' || response.status === 'ZERO_RESULTS')) {
      cache.set(key, { body: answer.body, places: { ...answer.places, ms: 0, cached: true } });
    }
    return answer;
  }

  /**
   * {@link lookUpJson}'s answer when an identical earlier look-up's document is kept (counted as a
   * look-up, as there), at once; `undefined` when it is not (a source that is not deterministic, or
   * no such look-up yet): then ask {@link lookUpJson}. A WHATSAT answered from here waits for nothing.
   */
  cachedJson(atLine: string, radiusMeters: number, limit: number): PlacesJson | undefined {
    const cache = this.jsonCache;
    return cache === undefined ? undefined : this.kept(cache.get(cacheKeyOf(atLine, radiusMeters, limit)));
  }

  /** `hit`, counted as a look-up. */
  private kept(hit: PlacesJson | undefined): PlacesJson | undefined {
    if (hit !== undefined) this.options.observer.placesLookup(hit.places.source, hit.places.status, 0);
    return hit;
  }

  /**
   * The places within `radiusMeters` of `point`, the first `limit` of what the source answers. Never
   * rejects.
   *
   * @param clientId - whose location it is, as text, for the log of a failed look-up.
   */
  async lookUp(point: LatLng, radiusMeters: number, limit: number, clientId: string): Promise<PlacesAnswer> {
    const { places, timeoutMs, timers, logger, observer } = this.options;
    const started = timers.now();
    let timer: TimerHandle | undefined;
    let response: NearbySearchResponse;
    try {
      response = await Promise.race([
        places.nearby({ latitude: point.latitude, longitude: point.longitude }, radiusMeters, limit),
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
          clientId,
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
