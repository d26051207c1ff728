/**
 * Places API (New) answers read as legacy Nearby Search documents, for the `google-new` source
 * (./google-new.ts): each `Place` mapped to a legacy result (docs/places.md "Mapping to the legacy
 * format"), keys and values as legacy Nearby Search gives them.
 */
import { isRecord, numberOf, stringOf } from '../core/json.js';
import type { NearbySearchLatLng, NearbySearchResponse, NearbySearchResult } from './provider.js';

/** Legacy `price_level` for each Places API (New) `priceLevel` (docs/places.md "Mapping to the legacy format"). */
export const PRICE_LEVELS: Readonly<Record<string, number>> = {
  PRICE_LEVEL_FREE: 0,
  PRICE_LEVEL_INEXPENSIVE: 1,
  PRICE_LEVEL_MODERATE: 2,
  PRICE_LEVEL_EXPENSIVE: 3,
  PRICE_LEVEL_VERY_EXPENSIVE: 4,
};

/** `businessStatus` values the legacy format has; others (`FUTURE_OPENING`, `..._UNSPECIFIED`) are left out. */
const LEGACY_BUSINESS_STATUSES = new Set(['OPERATIONAL', 'CLOSED_TEMPORARILY', 'CLOSED_PERMANENTLY']);
/**
 * Legacy Nearby Search without `keyword` does not return closed places (Google's "Nearby Search (Legacy)"
 * documentation): neither do we.
 */
const CLOSED_STATUSES = new Set(['CLOSED_TEMPORARILY', 'CLOSED_PERMANENTLY']);

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
 * Maps one Places API (New) `Place` to a legacy Nearby Search result (docs/places.md "Mapping to the legacy
 * format"), keys in the alphabetical order of Google's legacy examples: `business_status` (OPERATIONAL /
 * CLOSED_*; others left out), `geometry.location` / `.viewport` (`high` = northeast, `low` = southwest),
 * `icon_background_color`, `icon_mask_base_uri`, `name` (`displayName.text`), `opening_hours.open_now`
 * (`currentOpeningHours.openNow`), `photos` (the first photo, as legacy search shows one), `place_id` (`id`),
 * `plus_code`, `price_level` (0-4), `rating`, `reference` (= `place_id`), `scope` (`GOOGLE`), `types`,
 * `user_ratings_total`, `vicinity` (`shortFormattedAddress`, else the name). Legacy `icon` has no counterpart
 * and is left out.
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
