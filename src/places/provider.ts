/**
 * The places source interface and the legacy Nearby Search response shape every source answers in (the
 * response, result and `status` of Google's "Nearby Search (Legacy)",
 * https://developers.google.com/maps/documentation/places/web-service/legacy/search-nearby; docs/protocol.md
 * "WHATSAT").
 */
import type { LatLng } from '../protocol/location.js';

/** Legacy Nearby Search `status` values (Google's "Nearby Search (Legacy)" documentation). */
export type NearbySearchStatus =
  'OK' | 'ZERO_RESULTS' | 'INVALID_REQUEST' | 'OVER_QUERY_LIMIT' | 'REQUEST_DENIED' | 'UNKNOWN_ERROR';

/** A `{lat, lng}` pair in decimal degrees. */
export interface NearbySearchLatLng {
  lat: number;
  lng: number;
}

/**
 * One place of a legacy Nearby Search response (Google's "Nearby Search (Legacy)" documentation). Only the
 * fields a source knows are present; sources that pass Google's JSON through may carry more.
 */
export interface NearbySearchResult {
  business_status?: string;
  geometry: {
    location: NearbySearchLatLng;
    viewport?: { northeast: NearbySearchLatLng; southwest: NearbySearchLatLng };
  };
  icon?: string;
  icon_background_color?: string;
  icon_mask_base_uri?: string;
  name: string;
  opening_hours?: { open_now?: boolean };
  photos?: { height: number; width: number; html_attributions: string[]; photo_reference: string }[];
  place_id: string;
  plus_code?: { global_code: string; compound_code?: string };
  price_level?: number;
  rating?: number;
  reference?: string;
  scope?: string;
  types: string[];
  user_ratings_total?: number;
  vicinity?: string;
  [extra: string]: unknown;
}

/** A legacy Nearby Search response document (Google's "Nearby Search (Legacy)" documentation). */
export interface NearbySearchResponse {
  error_message?: string;
  html_attributions: string[];
  info_messages?: string[];
  next_page_token?: string;
  results: NearbySearchResult[];
  /** One of {@link NearbySearchStatus}, or a status Google adds later (passed through as sent). */
  status: NearbySearchStatus | (string & {});
}

/**
 * A source of places near a point. Implementations must settle every call: on failure they resolve
 * to a response with a non-OK `status` and an `error_message` (or reject with a `PlacesError`, which
 * the caller maps to such a response); they never hang past their own timeout.
 */
export interface PlacesProvider {
  /** Short name for logs and metrics, e.g. `offline`, `google`, `google-new`. */
  readonly source: string;
  /**
   * True when the same arguments always get the same successful answer (the offline data never
   * changes while the server runs): the server may then reuse an answer it has formatted. Google's
   * answers are not (and their terms restrict caching them, docs/places.md). @default false
   */
  readonly deterministic?: boolean;
  /**
   * Places within `radiusMeters` of `location`, most prominent first.
   *
   * @param location - the centre, decimal degrees.
   * @param radiusMeters - search radius in metres, in (0, 50000].
   * @param limit - most results wanted, in [1, 20]. A source may return more (the legacy API always
   *   answers a page of up to 20, and coalesced look-ups share one answer): the server keeps the
   *   first `limit` (src/server/places-lookup.ts), the one place the WHATSAT bound is applied.
   */
  nearby(location: LatLng, radiusMeters: number, limit: number): Promise<NearbySearchResponse>;
  /** Loads whatever the source needs (an index, a connection pool); resolves when it can answer. */
  ready?(): Promise<void>;
  /** Releases the source's resources. */
  close?(): Promise<void>;
}

/**
 * A response for a failed look-up: the legacy envelope with no results, the given non-OK `status`
 * and an `error_message` (docs/protocol.md "WHATSAT": a WHATSAT is never left unanswered).
 */
export function failedNearbySearch(status: NearbySearchStatus, errorMessage: string): NearbySearchResponse {
  return { error_message: errorMessage, html_attributions: [], results: [], status };
}
