/**
 * The `google` places source: Google's legacy Nearby Search, `GET
 * {base}/maps/api/place/nearbysearch/json?location=LAT,LNG&radius=METRES&key=KEY` (Google's "Nearby Search
 * (Legacy)", https://developers.google.com/maps/documentation/places/web-service/legacy/search-nearby;
 * docs/places.md "`google`: legacy Nearby Search"). Its JSON is already the format WHATSAT answers in, so it
 * is passed on as Google sent it (key order, `status`, `error_message`, `next_page_token`,
 * `html_attributions`, `info_messages`), with `results` cut to the bound.
 */
import type { LatLng } from '../protocol/location.js';
import type { AttemptOutcome, GoogleHttpClient, GoogleRequest, HttpExchange } from './google-http.js';
import { isTransientHttpStatus, legacyStatusForHttp } from './google-failures.js';
import { isRecord } from '../core/json.js';
import { googleHttpClientOf, httpFailure, readJsonBody, unexpectedBody } from './google-source.js';
import type { GoogleSourceOptions } from './google-source.js';
import type { NearbySearchResponse, PlacesProvider } from './provider.js';

/** Path of legacy Nearby Search under its base URL (Google's "Nearby Search (Legacy)" documentation). */
export const LEGACY_NEARBY_PATH = '/maps/api/place/nearbysearch/json';
/** How error messages name the legacy API. */
export const LEGACY_LABEL = 'Google Places API (Legacy)';

/** Options of a {@link GoogleLegacyPlacesProvider} (the key is sent as the `key` query parameter). */
export type GoogleLegacyOptions = GoogleSourceOptions;

/**
 * Formats a coordinate or radius for a query string: at most 8 decimals, no exponent, no trailing
 * zeros (`34.06893`, `-118.445127`, `800`).
 */
export function formatDecimal(value: number): string {
  const text = value.toFixed(8);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/**
 * The URL of one legacy Nearby Search request: `location` (`lat,lng`), `radius` (metres) and `key`,
 * nothing else (no `keyword`/`type`, so every kind of place is eligible, ranked by prominence).
 */
export function legacyNearbyUrl(baseUrl: string, apiKey: string, location: LatLng, radiusMeters: number): string {
  const query = new URLSearchParams({
    location: `${formatDecimal(location.latitude)},${formatDecimal(location.longitude)}`,
    radius: formatDecimal(radiusMeters),
    key: apiKey,
  });
  return `${baseUrl}${LEGACY_NEARBY_PATH}?${query.toString()}`;
}

/**
 * Turns one legacy Nearby Search HTTP response into a WHATSAT document.
 *
 * - A JSON body with a string `status` and a `results` array is authoritative whatever the HTTP
 *   status (Google's legacy reference, response statuses): passed on whole, every member kept in
 *   Google's order (the server keeps the first `bound` results of a WHATSAT) (`html_attributions: []` is added if missing). Transient when its status
 *   is `UNKNOWN_ERROR` or the HTTP status is 429 or 5xx.
 * - Anything else on HTTP 2xx: `UNKNOWN_ERROR` (malformed JSON, or JSON of another shape).
 * - Anything else on an HTTP error: the status of {@link legacyStatusForHttp}.
 */
export function interpretLegacyExchange(exchange: HttpExchange): AttemptOutcome {
  const { parsed, parses } = readJsonBody(exchange.body);
  if (isRecord(parsed) && typeof parsed.status === 'string' && Array.isArray(parsed.results)) {
    let copy: Record<string, unknown> = { ...parsed };
    if (!Array.isArray(copy.html_attributions)) {
      const { html_attributions: _dropped, ...rest } = copy;
      copy = { html_attributions: [], ...rest };
    }
    const response = copy as unknown as NearbySearchResponse;
    return { response, transient: response.status === 'UNKNOWN_ERROR' || isTransientHttpStatus(exchange.status) };
  }
  if (exchange.status >= 200 && exchange.status < 300)
    return unexpectedBody(LEGACY_LABEL, exchange, parses, 'a Nearby Search response');
  return httpFailure(LEGACY_LABEL, exchange, legacyStatusForHttp(exchange.status));
}

/**
 * Nearby Search through Google's legacy Places API. Never rejects: every failure is a legacy
 * document with a non-OK `status` (see {@link GoogleHttpClient} for the timeout and retry policy).
 */
export class GoogleLegacyPlacesProvider implements PlacesProvider {
  readonly source = 'google';
  private readonly options: GoogleLegacyOptions;
  private readonly http: GoogleHttpClient;

  constructor(options: GoogleLegacyOptions) {
    this.options = options;
    this.http = googleHttpClientOf(this.source, LEGACY_LABEL, options);
  }

  /**
   * Places within `radiusMeters` of `location`, Google's order (prominence): a full page of up to 20,
   * whatever `limit` (the legacy API has no bound parameter; the server keeps the first `limit`).
   */
  nearby(location: LatLng, radiusMeters: number, _limit: number): Promise<NearbySearchResponse> {
    const request: GoogleRequest = {
      url: legacyNearbyUrl(this.options.baseUrl, this.options.apiKey, location, radiusMeters),
      init: { method: 'GET', headers: { accept: 'application/json' } },
    };
    return this.http.lookUp(request, interpretLegacyExchange);
  }

  /** Aborts look-ups in flight. */
  async close(): Promise<void> {
    this.http.close();
  }
}
