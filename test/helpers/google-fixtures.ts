/**
 * Recorded-shape Google fixtures shared by the Google unit tests and the fake Google of
 * test/integration/google-places.test.ts. Constructed from the response formats of Google's "Nearby Search
 * (Legacy)" and "Nearby Search (New)" documentation
 * (https://developers.google.com/maps/documentation/places/web-service/legacy/search-nearby,
 * https://developers.google.com/maps/documentation/places/web-service/nearby-search) and its
 * `google.rpc.Status` errors; every id, name and photo reference is fabricated.
 */

import type { HttpExchange } from '../../src/places/google-http.js';

/**
 * One HTTP response as the interpreters see it (src/places/google-http.ts): `status`, `body` (JSON
 * text of an object, or a string as it is), no `Retry-After`.
 */
export function httpExchange(status: number, body: unknown, statusText = ''): HttpExchange {
  return { status, statusText, retryAfter: null, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

/** An API key that looks real, so the log scan has something distinctive to look for. */
export const TEST_API_KEY = 'AIzaSyTEST-herd-fixture-key_0123456789abc';

/** Legacy Nearby Search, `status: OK`, four results and a `next_page_token` (reference 1.6). */
export const LEGACY_OK = {
  html_attributions: [],
  next_page_token: 'AUGGfZmQ3x7cN0Pj2oYk8bE1sVwTq5aLrD4uH6iFzK9eXyCg1MnB7tR2pWvJ0sQd8fLhA3kU5oE6yZ4xI9cV2bN7mT1qGw',
  results: [
    {
      geometry: {
        location: { lat: 37.7749295, lng: -122.4194155 },
        viewport: { northeast: { lat: 37.812, lng: -122.3482 }, southwest: { lat: 37.70339999999999, lng: -122.527 } },
      },
      icon: 'https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/geocode-71.png',
      icon_background_color: '#7B9EB0',
      icon_mask_base_uri: 'https://maps.gstatic.com/mapfiles/place_api/icons/v2/generic_pinlet',
      name: 'San Francisco',
      photos: [
        {
          height: 2268,
          html_attributions: ['<a href="https://maps.google.com/maps/contrib/100000000000000000001">A Google User</a>'],
          photo_reference: 'AcJnMuFixtureLocalityPhotoRef0001xQ9vT3kLmN8pR2sW6yZ0aB4cD7eF1gH5jK9',
          width: 4032,
        },
      ],
      place_id: 'ChIJFixtureSFLocality0001',
      reference: 'ChIJFixtureSFLocality0001',
      scope: 'GOOGLE',
      types: ['locality', 'political'],
      vicinity: 'San Francisco',
    },
    {
      business_status: 'OPERATIONAL',
      geometry: {
        location: { lat: 37.7990213, lng: -122.3977412 },
        viewport: {
          northeast: { lat: 37.80036028029151, lng: -122.3963922197085 },
          southwest: { lat: 37.79766231970851, lng: -122.3990901802915 },
        },
      },
      icon: 'https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/restaurant-71.png',
      icon_background_color: '#FF9E67',
      icon_mask_base_uri: 'https://maps.gstatic.com/mapfiles/place_api/icons/v2/restaurant_pinlet',
      name: 'Pier 7 Oyster House',
      opening_hours: { open_now: true },
      photos: [
        {
          height: 3024,
          html_attributions: [
            '<a href="https://maps.google.com/maps/contrib/100000000000000000002">Pier 7 Oyster House</a>',
          ],
          photo_reference: 'AcJnMuFixtureOysterPhotoRef0002pL4mN7qR1sT5vW8xY2zA6bC9dE3fG0hJ4kL',
          width: 4032,
        },
      ],
      place_id: 'ChIJFixtureOysterHouse002',
      plus_code: { compound_code: 'QJX2+JW San Francisco, CA, USA', global_code: '849VQJX2+JW' },
      price_level: 3,
      rating: 4.5,
      reference: 'ChIJFixtureOysterHouse002',
      scope: 'GOOGLE',
      types: ['restaurant', 'bar', 'food', 'point_of_interest', 'establishment'],
      user_ratings_total: 2874,
      vicinity: 'Pier 7, The Embarcadero, San Francisco',
    },
    {
      business_status: 'OPERATIONAL',
      geometry: {
        location: { lat: 37.7932058, lng: -122.3929561 },
        viewport: {
          northeast: { lat: 37.79455478029151, lng: -122.3916071197085 },
          southwest: { lat: 37.79185681970851, lng: -122.3943050802915 },
        },
      },
      icon: 'https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/cafe-71.png',
      icon_background_color: '#FF9E67',
      icon_mask_base_uri: 'https://maps.gstatic.com/mapfiles/place_api/icons/v2/cafe_pinlet',
      name: 'Steuart Street Coffee Co.',
      opening_hours: { open_now: false },
      place_id: 'ChIJFixtureSteuartCoffee03',
      plus_code: { compound_code: 'QJV4+7R San Francisco, CA, USA', global_code: '849VQJV4+7R' },
      rating: 4.3,
      reference: 'ChIJFixtureSteuartCoffee03',
      scope: 'GOOGLE',
      types: ['cafe', 'food', 'point_of_interest', 'store', 'establishment'],
      user_ratings_total: 412,
      vicinity: '101 Steuart St, San Francisco',
    },
    {
      business_status: 'OPERATIONAL',
      geometry: { location: { lat: 37.7946318, lng: -122.3953114 } },
      name: 'Embarcadero Tap Room',
      place_id: 'ChIJFixtureTapRoom0000004',
      price_level: 2,
      rating: 4,
      reference: 'ChIJFixtureTapRoom0000004',
      scope: 'GOOGLE',
      types: ['bar', 'point_of_interest', 'establishment'],
      user_ratings_total: 96,
      vicinity: '4 Embarcadero Center, San Francisco',
    },
  ],
  status: 'OK',
};

/** Legacy error bodies (reference 1.6), each as Google sends it (HTTP 200). */
export const LEGACY_ZERO_RESULTS = { html_attributions: [], results: [], status: 'ZERO_RESULTS' };
export const LEGACY_REQUEST_DENIED = {
  error_message: 'The provided API key is invalid. ',
  html_attributions: [],
  results: [],
  status: 'REQUEST_DENIED',
};
export const LEGACY_INVALID_REQUEST = { html_attributions: [], results: [], status: 'INVALID_REQUEST' };
export const LEGACY_OVER_QUERY_LIMIT = {
  error_message: 'You have exceeded your rate-limit for this API.',
  html_attributions: [],
  results: [],
  status: 'OVER_QUERY_LIMIT',
};
export const LEGACY_UNKNOWN_ERROR = { html_attributions: [], results: [], status: 'UNKNOWN_ERROR' };

/**
 * Places API (New) `SearchNearbyResponse` for the same four places (reference 3.2), as the
 * enterprise field mask returns them, plus a permanently closed place that legacy would not show.
 */
export const NEW_OK = {
  places: [
    {
      id: 'ChIJFixtureSFLocality0001',
      types: ['locality', 'political'],
      shortFormattedAddress: 'San Francisco',
      location: { latitude: 37.7749295, longitude: -122.4194155 },
      viewport: {
        low: { latitude: 37.70339999999999, longitude: -122.527 },
        high: { latitude: 37.812, longitude: -122.3482 },
      },
      displayName: { text: 'San Francisco', languageCode: 'en' },
      iconMaskBaseUri: 'https://maps.gstatic.com/mapfiles/place_api/icons/v2/generic_pinlet',
      iconBackgroundColor: '#7B9EB0',
      photos: [
        {
          name: 'places/ChIJFixtureSFLocality0001/photos/AcJnMuFixtureLocalityPhotoRef0001xQ9vT3kLmN8pR2sW6yZ0aB4cD7eF1gH5jK9',
          widthPx: 4032,
          heightPx: 2268,
          authorAttributions: [
            {
              displayName: 'A Google User',
              uri: '//maps.google.com/maps/contrib/100000000000000000001',
              photoUri: '//lh3.googleusercontent.com/a-/Fixture001',
            },
          ],
        },
        {
          name: 'places/ChIJFixtureSFLocality0001/photos/SecondPhotoIsDropped',
          widthPx: 100,
          heightPx: 100,
          authorAttributions: [],
        },
      ],
    },
    {
      id: 'ChIJFixtureOysterHouse002',
      types: ['seafood_restaurant', 'bar', 'restaurant', 'food', 'point_of_interest', 'establishment'],
      shortFormattedAddress: 'Pier 7, The Embarcadero, San Francisco',
      location: { latitude: 37.7990213, longitude: -122.3977412 },
      viewport: {
        low: { latitude: 37.79766231970851, longitude: -122.3990901802915 },
        high: { latitude: 37.80036028029151, longitude: -122.3963922197085 },
      },
      plusCode: { globalCode: '849VQJX2+JW', compoundCode: 'QJX2+JW San Francisco, CA, USA' },
      rating: 4.5,
      userRatingCount: 2874,
      priceLevel: 'PRICE_LEVEL_EXPENSIVE',
      businessStatus: 'OPERATIONAL',
      displayName: { text: 'Pier 7 Oyster House', languageCode: 'en' },
      currentOpeningHours: { openNow: true },
      iconMaskBaseUri: 'https://maps.gstatic.com/mapfiles/place_api/icons/v2/restaurant_pinlet',
      iconBackgroundColor: '#FF9E67',
      photos: [
        {
          name: 'places/ChIJFixtureOysterHouse002/photos/AcJnMuFixtureOysterPhotoRef0002pL4mN7qR1sT5vW8xY2zA6bC9dE3fG0hJ4kL',
          widthPx: 4032,
          heightPx: 3024,
          authorAttributions: [
            {
              displayName: 'Pier 7 Oyster House',
              uri: '//maps.google.com/maps/contrib/100000000000000000002',
              photoUri: '//lh3.googleusercontent.com/a-/Fixture002',
            },
          ],
        },
      ],
    },
    {
      id: 'ChIJFixtureClosedDiner005',
      types: ['restaurant', 'food', 'point_of_interest', 'establishment'],
      location: { latitude: 37.795, longitude: -122.394 },
      businessStatus: 'CLOSED_PERMANENTLY',
      displayName: { text: 'Closed Diner', languageCode: 'en' },
    },
    {
      id: 'ChIJFixtureSteuartCoffee03',
      types: ['coffee_shop', 'cafe', 'food', 'point_of_interest', 'store', 'establishment'],
      shortFormattedAddress: '101 Steuart St, San Francisco',
      location: { latitude: 37.7932058, longitude: -122.3929561 },
      viewport: {
        low: { latitude: 37.79185681970851, longitude: -122.3943050802915 },
        high: { latitude: 37.79455478029151, longitude: -122.3916071197085 },
      },
      plusCode: { globalCode: '849VQJV4+7R', compoundCode: 'QJV4+7R San Francisco, CA, USA' },
      rating: 4.3,
      userRatingCount: 412,
      businessStatus: 'OPERATIONAL',
      displayName: { text: 'Steuart Street Coffee Co.', languageCode: 'en' },
      currentOpeningHours: { openNow: false },
      iconMaskBaseUri: 'https://maps.gstatic.com/mapfiles/place_api/icons/v2/cafe_pinlet',
      iconBackgroundColor: '#FF9E67',
      attributions: [{ provider: 'Fixture Data & Co', providerUri: 'https://example.com/fixture-data' }],
    },
    {
      id: 'ChIJFixtureTapRoom0000004',
      types: ['bar', 'point_of_interest', 'establishment'],
      shortFormattedAddress: '4 Embarcadero Center, San Francisco',
      location: { latitude: 37.7946318, longitude: -122.3953114 },
      rating: 4,
      userRatingCount: 96,
      priceLevel: 'PRICE_LEVEL_MODERATE',
      businessStatus: 'OPERATIONAL',
      displayName: { text: 'Embarcadero Tap Room', languageCode: 'en' },
    },
  ],
};

type LegacyResult = (typeof LEGACY_OK.results)[number];

/** A result of {@link LEGACY_OK} as converted from {@link NEW_OK}: New has no v1 `icon`, and may have finer types. */
function fromNew({ icon: _icon, ...result }: LegacyResult, types?: readonly string[]): Omit<LegacyResult, 'icon'> {
  return types === undefined ? result : { ...result, types: [...types] };
}

/** {@link NEW_OK} as the legacy document WHATSAT answers with (the closed place left out). */
export const NEW_OK_AS_LEGACY = {
  html_attributions: ['<a href="https://example.com/fixture-data">Fixture Data &amp; Co</a>'],
  results: [
    fromNew(LEGACY_OK.results[0] as LegacyResult),
    fromNew(LEGACY_OK.results[1] as LegacyResult, [
      'seafood_restaurant',
      'bar',
      'restaurant',
      'food',
      'point_of_interest',
      'establishment',
    ]),
    fromNew(LEGACY_OK.results[2] as LegacyResult, [
      'coffee_shop',
      'cafe',
      'food',
      'point_of_interest',
      'store',
      'establishment',
    ]),
    fromNew(LEGACY_OK.results[3] as LegacyResult),
  ],
  status: 'OK',
};

/** A `google.rpc.Status` error body of Places API (New) (reference 3.3). */
export function newErrorBody(
  code: number,
  status: string,
  message: string,
  reason?: string,
): { error: Record<string, unknown> } {
  const error: Record<string, unknown> = { code, message, status };
  if (reason !== undefined) {
    error.details = [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason,
        domain: 'googleapis.com',
        metadata: { service: 'places.googleapis.com' },
      },
    ];
  }
  return { error };
}
