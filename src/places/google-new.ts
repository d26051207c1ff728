/**
 * The `google-new` places source: Places API (New) Nearby Search,
 * `POST {base}/v1/places:searchNearby` with `X-Goog-Api-Key` and `X-Goog-FieldMask`
 * (`../shared/reference/google-places.md` section 3), each place mapped to a legacy Nearby Search
 * result (section 3.6) and each HTTP / `google.rpc.Status` error to a legacy `status` (section 3.7),
 * so clients get the same format as from the legacy API.
 */
import type { Logger } from '../observability/logger.js';
import type { LatLng } from '../protocol/location.js';
import {
  GoogleHttpClient,
  isTransientHttpStatus,
  legacyStatusForHttp,
  type AttemptOutcome,
  type FetchFunction,
  type GoogleRequest,
  type HttpExchange,
} from './google-http.js';
import {
  failedNearbySearch,
  type NearbySearchLatLng,
  type NearbySearchResponse,
  type NearbySearchResult,
  type NearbySearchStatus,
  type PlacesProvider,
} from './provider.js';
import type { NewFieldSet } from './settings.js';

/** Path of Nearby Search (New) under its base URL (reference section 3.1). */
export const NEW_NEARBY_PATH = '/v1/places:searchNearby';
/** How error messages name Places API (New). */
export const NEW_LABEL = 'Google Places API (New)';
/** Most results Nearby Search (New) returns (`maxResultCount` 1-20). */
export const NEW_MAX_RESULT_COUNT = 20;
/** Largest radius Nearby Search (New) accepts, metres (it rejects more; legacy clamps). */
export const NEW_MAX_RADIUS_METERS = 50_000;

/**
 * Fields asked for with the Nearby Search Pro SKU (reference section 3.4): identity, name, geometry,
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

/** Legacy `price_level` for each Places API (New) `priceLevel` (reference section 3.6). */
export const PRICE_LEVELS: Readonly<Record<string, number>> = {
  PRICE_LEVEL_FREE: 0,
  PRICE_LEVEL_INEXPENSIVE: 1,
  PRICE_LEVEL_MODERATE: 2,
  PRICE_LEVEL_EXPENSIVE: 3,
  PRICE_LEVEL_VERY_EXPENSIVE: 4,
};

/** `businessStatus` values the legacy format has; others (`FUTURE_OPENING`, `..._UNSPECIFIED`) are left out. */
const LEGACY_BUSINESS_STATUSES = new Set(['OPERATIONAL', 'CLOSED_TEMPORARILY', 'CLOSED_PERMANENTLY']);
/** Legacy Nearby Search without `keyword` does not return closed places (reference section 1.1): neither do we. */
const CLOSED_STATUSES = new Set(['CLOSED_TEMPORARILY', 'CLOSED_PERMANENTLY']);

/** Options of a {@link GoogleNewPlacesProvider}. */
export interface GoogleNewOptions {
  /** The API key (sent as `X-Goog-Api-Key`). */
  readonly apiKey: string;
  /** Scheme, host, port and path prefix, no trailing slash, e.g. `https://places.googleapis.com`. */
  readonly baseUrl: string;
  /** Time budget of one look-up, retry included, ms. */
  readonly timeoutMs: number;
  /** Retry once after a transient failure. @default true */
  readonly retry?: boolean;
  /** @default 'enterprise' */
  readonly fields?: NewFieldSet;
  readonly logger?: Logger;
  /** @default globalThis.fetch */
  readonly fetch?: FetchFunction;
}

/** The `SearchNearbyRequest` body (reference section 3.1). */
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
function latLngOf(value: unknown): NearbySearchLatLng | undefined {
  if (!isRecord(value)) return undefined;
  const lat = numberOf(value.latitude);
  const lng = numberOf(value.longitude);
  // proto3 JSON leaves out zero values: a point on the equator or the prime meridian has no member.
  if (lat === undefined && lng === undefined) return undefined;
  return { lat: lat ?? 0, lng: lng ?? 0 };
}
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
/** `//maps.google.com/...` (protocol-relative, as Places API (New) sends) becomes `https://maps.google.com/...`. */
function absoluteUri(uri: string): string {
  return uri.startsWith('//') ? `https:${uri}` : uri;
}

/** Legacy `photos[]` entry from a Places API (New) photo; `photo_reference` is the last segment of its `name`. */
function legacyPhoto(photo: unknown): NonNullable<NearbySearchResult['photos']>[number] | undefined {
  if (!isRecord(photo)) return undefined;
  const name = stringOf(photo.name);
  const width = numberOf(photo.widthPx);
  const height = numberOf(photo.heightPx);
  if (name === undefined || width === undefined || height === undefined) return undefined;
  const reference = name.slice(name.lastIndexOf('/') + 1);
  const attributions: string[] = [];
  for (const author of Array.isArray(photo.authorAttributions) ? photo.authorAttributions : []) {
    if (!isRecord(author)) continue;
    const displayName = stringOf(author.displayName) ?? '';
    const uri = stringOf(author.uri);
    attributions.push(
      uri === undefined
        ? escapeHtml(displayName)
        : `<a href="${escapeHtml(absoluteUri(uri))}">${escapeHtml(displayName)}</a>`,
    );
  }
  return { height, html_attributions: attributions, photo_reference: reference, width };
}

/**
 * Maps one Places API (New) `Place` to a legacy Nearby Search result (reference section 3.6), keys in
 * the alphabetical order of Google's legacy examples:
 * `business_status` (OPERATIONAL / CLOSED_*; others left out), `geometry.location` / `.viewport`
 * (`high` = northeast, `low` = southwest), `icon_background_color`, `icon_mask_base_uri`, `name`
 * (`displayName.text`), `opening_hours.open_now` (`currentOpeningHours.openNow`), `photos` (the first
 * photo, as legacy search shows one), `place_id` (`id`), `plus_code`, `price_level` (0-4), `rating`,
 * `reference` (= `place_id`), `scope` (`GOOGLE`), `types`, `user_ratings_total`, `vicinity`
 * (`shortFormattedAddress`, else the name). Legacy `icon` has no counterpart and is left out.
 *
 * @returns the result, or `undefined` for a place without `id` or `location`.
 */
export function legacyResultFromPlace(place: unknown): NearbySearchResult | undefined {
  if (!isRecord(place)) return undefined;
  const id = stringOf(place.id);
  const location = latLngOf(place.location);
  if (id === undefined || location === undefined) return undefined;
  const name = isRecord(place.displayName) ? (stringOf(place.displayName.text) ?? '') : '';
  const out: Record<string, unknown> = {};
  const businessStatus = stringOf(place.businessStatus);
  if (businessStatus !== undefined && LEGACY_BUSINESS_STATUSES.has(businessStatus))
    out.business_status = businessStatus;
  const geometry: NearbySearchResult['geometry'] = { location };
  if (isRecord(place.viewport)) {
    const northeast = latLngOf(place.viewport.high);
    const southwest = latLngOf(place.viewport.low);
    if (northeast !== undefined && southwest !== undefined) geometry.viewport = { northeast, southwest };
  }
  out.geometry = geometry;
  const iconBackgroundColor = stringOf(place.iconBackgroundColor);
  if (iconBackgroundColor !== undefined) out.icon_background_color = iconBackgroundColor;
  const iconMaskBaseUri = stringOf(place.iconMaskBaseUri);
  if (iconMaskBaseUri !== undefined) out.icon_mask_base_uri = iconMaskBaseUri;
  out.name = name;
  if (isRecord(place.currentOpeningHours) && typeof place.currentOpeningHours.openNow === 'boolean') {
    out.opening_hours = { open_now: place.currentOpeningHours.openNow };
  }
  const photo = Array.isArray(place.photos) ? legacyPhoto(place.photos[0]) : undefined;
  if (photo !== undefined) out.photos = [photo];
  out.place_id = id;
  if (isRecord(place.plusCode)) {
    const globalCode = stringOf(place.plusCode.globalCode);
    const compoundCode = stringOf(place.plusCode.compoundCode);
    if (globalCode !== undefined)
      out.plus_code =
        compoundCode === undefined
          ? { global_code: globalCode }
          : { compound_code: compoundCode, global_code: globalCode };
  }
  const priceLevel = PRICE_LEVELS[stringOf(place.priceLevel) ?? ''];
  if (priceLevel !== undefined) out.price_level = priceLevel;
  const rating = numberOf(place.rating);
  if (rating !== undefined) out.rating = rating;
  out.reference = id;
  out.scope = 'GOOGLE';
  out.types = Array.isArray(place.types) ? place.types.filter((type): type is string => typeof type === 'string') : [];
  const userRatingCount = numberOf(place.userRatingCount);
  if (userRatingCount !== undefined) out.user_ratings_total = userRatingCount;
  out.vicinity = stringOf(place.shortFormattedAddress) ?? name;
  return out as NearbySearchResult;
}

/**
 * Maps a `SearchNearbyResponse` (`{"places": [...]}`, or `{}` when nothing matched) to a legacy
 * document: `OK` with the mapped places, or `ZERO_RESULTS`. Closed places are left out, as legacy
 * Nearby Search leaves them out. `html_attributions` gathers the places' data-provider
 * `attributions` as `<a href="providerUri">provider</a>`.
 *
 * @returns `undefined` when the body is not of that shape.
 */
export function legacyResponseFromSearchNearby(body: unknown): NearbySearchResponse | undefined {
  if (!isRecord(body)) return undefined;
  if (body.places !== undefined && !Array.isArray(body.places)) return undefined;
  const places: unknown[] = Array.isArray(body.places) ? body.places : [];
  const attributions = new Set<string>();
  const results: NearbySearchResult[] = [];
  for (const place of places) {
    if (isRecord(place) && CLOSED_STATUSES.has(stringOf(place.businessStatus) ?? '')) continue;
    const result = legacyResultFromPlace(place);
    if (result === undefined) continue;
    results.push(result);
    for (const attribution of isRecord(place) && Array.isArray(place.attributions) ? place.attributions : []) {
      if (!isRecord(attribution)) continue;
      const provider = stringOf(attribution.provider);
      if (provider === undefined) continue;
      const uri = stringOf(attribution.providerUri);
      attributions.add(
        uri === undefined ? escapeHtml(provider) : `<a href="${escapeHtml(uri)}">${escapeHtml(provider)}</a>`,
      );
    }
  }
  return { html_attributions: [...attributions], results, status: results.length > 0 ? 'OK' : 'ZERO_RESULTS' };
}

/**
 * The legacy `status` for a Places API (New) error (reference sections 3.3 and 3.7): an invalid or
 * missing key (`ErrorInfo.reason` `API_KEY_*`) and `UNAUTHENTICATED` / `PERMISSION_DENIED` (401/403)
 * are `REQUEST_DENIED`; `RESOURCE_EXHAUSTED` (429) is `OVER_QUERY_LIMIT`; `INVALID_ARGUMENT`,
 * `FAILED_PRECONDITION`, `OUT_OF_RANGE` (400) are `INVALID_REQUEST`; everything else (5xx, 404, ...)
 * is `UNKNOWN_ERROR`.
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
  let parsed: unknown;
  let parses = true;
  try {
    parsed = JSON.parse(exchange.body);
  } catch {
    parses = false;
  }
  if (exchange.status >= 200 && exchange.status < 300) {
    const response = parses ? legacyResponseFromSearchNearby(parsed) : undefined;
    if (response !== undefined) return { response, transient: false };
    const what = parses ? 'JSON that is not a searchNearby response' : 'malformed JSON';
    return {
      response: failedNearbySearch('UNKNOWN_ERROR', `${NEW_LABEL} answered ${what} (HTTP ${exchange.status})`),
      transient: false,
    };
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
  const message = error === undefined ? undefined : stringOf(error.message);
  const reason = exchange.statusText === '' ? '' : ` ${exchange.statusText}`;
  return {
    response: failedNearbySearch(
      status,
      message !== undefined && message !== '' ? message : `${NEW_LABEL} answered HTTP ${exchange.status}${reason}`,
    ),
    transient: isTransientHttpStatus(exchange.status),
  };
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
    this.http = new GoogleHttpClient({
      source: this.source,
      label: NEW_LABEL,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      logger: options.logger,
      fetch: options.fetch,
    });
  }

  /** Places within `radiusMeters` of `location` (a hard restriction), by popularity, at most `limit` (`maxResultCount`). */
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
