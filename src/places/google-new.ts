/**
 * The `google-new` places source: Places API (New) Nearby Search, `POST {base}/v1/places:searchNearby` with
 * `X-Goog-Api-Key` and `X-Goog-FieldMask` (Google's "Nearby Search (New)",
 * https://developers.google.com/maps/documentation/places/web-service/nearby-search, and "Method:
 * places.searchNearby",
 * https://developers.google.com/maps/documentation/places/web-service/reference/rest/v1/places/searchNearby),
 * each place mapped to a legacy Nearby Search result (docs/places.md "Mapping to the legacy format") and each
 * HTTP / `google.rpc.Status` error to a legacy `status` (docs/places.md "What clients get when Google
 * fails"), so clients get the same format as from the legacy API.
 */
import type { LatLng } from '../protocol/location.js';
import type { AttemptOutcome, GoogleHttpClient, GoogleRequest, HttpExchange } from './google-http.js';
import { legacyStatusForHttp } from './google-failures.js';
import { isRecord, stringOf } from '../core/json.js';
import { legacyResponseFromSearchNearby } from './google-new-mapping.js';
import { googleHttpClientOf, httpFailure, readJsonBody, unexpectedBody } from './google-source.js';
import type { GoogleSourceOptions } from './google-source.js';
import type { NearbySearchResponse, NearbySearchStatus, PlacesProvider } from './provider.js';
import type { NewFieldSet } from './settings.js';

/** Path of Nearby Search (New) under its base URL (Google's "Method: places.searchNearby" documentation). */
export const NEW_NEARBY_PATH = '/v1/places:searchNearby';
/** How error messages name Places API (New). */
export const NEW_LABEL = 'Google Places API (New)';
/** Most results Nearby Search (New) returns (`maxResultCount` 1-20). */
export const NEW_MAX_RESULT_COUNT = 20;
/** Largest radius Nearby Search (New) accepts, metres (it rejects more; legacy clamps). */
export const NEW_MAX_RADIUS_METERS = 50_000;

/**
 * Fields asked for with the Nearby Search Pro SKU (docs/places.md "Field mask and billing"): identity, name, geometry,
 * address, types, status, plus code, icon, photos and attributions.
 */
const PRO_FIELDS = [
  'places.id',
  'places.displayName',
  'places.location',
  'places.viewport',
  'places.types',
  'places.shortFormattedAddress',
  'places.businessStatus',
  'places.plusCode',
  'places.iconMaskBaseUri',
  'places.iconBackgroundColor',
  'places.photos',
  'places.attributions',
];
/** Fields that raise a request to the Nearby Search Enterprise SKU: rating, ratings count, price level, open now. */
const ENTERPRISE_FIELDS = [
  'places.rating',
  'places.userRatingCount',
  'places.priceLevel',
  'places.currentOpeningHours.openNow',
];

/**
 * The `X-Goog-FieldMask` for each field set: only what the legacy result shape needs (no `*`).
 * `enterprise` is billed as Nearby Search Enterprise, `pro` as Nearby Search Pro (reference 3.4).
 */
export const NEW_FIELD_MASKS: Readonly<Record<NewFieldSet, string>> = {
  enterprise: [...PRO_FIELDS, ...ENTERPRISE_FIELDS].join(','),
  pro: PRO_FIELDS.join(','),
};

/** Options of a {@link GoogleNewPlacesProvider}. */
export interface GoogleNewOptions extends GoogleSourceOptions {
  /** @default 'enterprise' */
  readonly fields?: NewFieldSet;
}

/** The `SearchNearbyRequest` body (Google's "Method: places.searchNearby" documentation). */
export interface SearchNearbyRequestBody {
  maxResultCount: number;
  locationRestriction: { circle: { center: { latitude: number; longitude: number }; radius: number } };
}

/**
 * The body of one Nearby Search (New) request: a circle of `radiusMeters` (clamped to
 * (0, {@link NEW_MAX_RADIUS_METERS}]) around `location`, at most `limit` results (clamped to 1-20).
 */
export function searchNearbyBody(location: LatLng, radiusMeters: number, limit: number): SearchNearbyRequestBody {
  return {
    maxResultCount: Math.min(NEW_MAX_RESULT_COUNT, Math.max(1, Math.floor(limit))),
    locationRestriction: {
      circle: {
        center: { latitude: location.latitude, longitude: location.longitude },
        radius: Math.min(NEW_MAX_RADIUS_METERS, radiusMeters),
      },
    },
  };
}

/**
 * The legacy `status` for a Places API (New) error (Google's `google.rpc.Status` errors; docs/places.md "What
 * clients get when Google fails"): an invalid or missing key (`ErrorInfo.reason` `API_KEY_*`) and
 * `UNAUTHENTICATED` / `PERMISSION_DENIED` (401/403) are `REQUEST_DENIED`; `RESOURCE_EXHAUSTED` (429) is
 * `OVER_QUERY_LIMIT`; `INVALID_ARGUMENT`, `FAILED_PRECONDITION`, `OUT_OF_RANGE` (400) are `INVALID_REQUEST`;
 * everything else (5xx, 404, ...) is `UNKNOWN_ERROR`.
 *
 * @param httpStatus - the HTTP status code.
 * @param rpcStatus - `error.status`, the `google.rpc.Code` name, if sent.
 * @param reasons - the `reason` of each `google.rpc.ErrorInfo` in `error.details`.
 */
export function legacyStatusForNewError(
  httpStatus: number,
  rpcStatus: string | undefined,
  reasons: readonly string[],
): NearbySearchStatus {
  if (reasons.some((reason) => reason.startsWith('API_KEY_'))) return 'REQUEST_DENIED';
  switch (rpcStatus) {
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return 'REQUEST_DENIED';
    case 'RESOURCE_EXHAUSTED':
      return 'OVER_QUERY_LIMIT';
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
    case 'OUT_OF_RANGE':
      return 'INVALID_REQUEST';
    default:
      return legacyStatusForHttp(httpStatus);
  }
}

/**
 * Turns one Nearby Search (New) HTTP response into a WHATSAT document:
 *
 * - HTTP 2xx with a `SearchNearbyResponse`: {@link legacyResponseFromSearchNearby}; other bodies
 *   (malformed JSON, another shape): `UNKNOWN_ERROR`.
 * - Otherwise the `google.rpc.Status` body (`{"error": {code, message, status, details}}`) decides
 *   the legacy status ({@link legacyStatusForNewError}) and `error.message` becomes `error_message`;
 *   without one, the HTTP status decides. Transient when HTTP 429 or 5xx.
 */
export function interpretNewExchange(exchange: HttpExchange): AttemptOutcome {
  const { parsed, parses } = readJsonBody(exchange.body);
  if (exchange.status >= 200 && exchange.status < 300) {
    const response = parses ? legacyResponseFromSearchNearby(parsed) : undefined;
    if (response !== undefined) return { response, transient: false };
    return unexpectedBody(NEW_LABEL, exchange, parses, 'a searchNearby response');
  }
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  const reasons: string[] = [];
  for (const detail of error !== undefined && Array.isArray(error.details) ? error.details : []) {
    const reason = isRecord(detail) ? stringOf(detail.reason) : undefined;
    if (reason !== undefined) reasons.push(reason);
  }
  const status = legacyStatusForNewError(
    exchange.status,
    error === undefined ? undefined : stringOf(error.status),
    reasons,
  );
  return httpFailure(NEW_LABEL, exchange, status, error === undefined ? undefined : stringOf(error.message));
}

/**
 * Nearby Search through Places API (New), answering in the legacy format. Never rejects: every
 * failure is a legacy document with a non-OK `status` (see {@link GoogleHttpClient} for the timeout
 * and retry policy).
 */
export class GoogleNewPlacesProvider implements PlacesProvider {
  readonly source = 'google-new';
  private readonly options: GoogleNewOptions;
  private readonly http: GoogleHttpClient;
  private readonly url: string;
  private readonly fieldMask: string;

  constructor(options: GoogleNewOptions) {
    this.options = options;
    this.url = `${options.baseUrl}${NEW_NEARBY_PATH}`;
    this.fieldMask = NEW_FIELD_MASKS[options.fields ?? 'enterprise'];
    this.http = googleHttpClientOf(this.source, NEW_LABEL, options);
  }

  /**
   * Places within `radiusMeters` of `location` (a hard restriction), by popularity, at most `limit`
   * (`maxResultCount`).
   */
  nearby(location: LatLng, radiusMeters: number, limit: number): Promise<NearbySearchResponse> {
    const request: GoogleRequest = {
      url: this.url,
      init: {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'x-goog-api-key': this.options.apiKey,
          'x-goog-fieldmask': this.fieldMask,
        },
        body: JSON.stringify(searchNearbyBody(location, radiusMeters, limit)),
      },
    };
    // Google honours maxResultCount; the server still keeps only the first `limit` of any answer.
    return this.http.lookUp(request, interpretNewExchange);
  }

  /** Aborts look-ups in flight. */
  async close(): Promise<void> {
    this.http.close();
  }
}
