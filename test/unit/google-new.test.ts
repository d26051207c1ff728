/** Places API (New) as a legacy source, without a network: request body, field masks, mapping, errors. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NEW_FIELD_MASKS,
  interpretNewExchange,
  legacyStatusForNewError,
  searchNearbyBody,
} from '../../src/places/google-new.js';
import { legacyResponseFromSearchNearby, legacyResultFromPlace } from '../../src/places/google-new-mapping.js';
import { failedNearbySearch } from '../../src/places/provider.js';
import { formatGoogleJson } from '../../src/protocol/google-json.js';
import { NEW_OK, NEW_OK_AS_LEGACY, httpExchange as exchange, newErrorBody } from '../helpers/google-fixtures.js';

describe('searchNearbyBody', () => {
  test('a circle in metres and maxResultCount = the bound', () => {
    assert.deepEqual(searchNearbyBody({ latitude: 34.06893, longitude: -118.445127 }, 10_000, 5), {
      maxResultCount: 5,
      locationRestriction: { circle: { center: { latitude: 34.06893, longitude: -118.445127 }, radius: 10_000 } },
    });
  });
  test('the bound is clamped to 1-20 and the radius to 50 km', () => {
    assert.equal(searchNearbyBody({ latitude: 0, longitude: 0 }, 60_000, 25).maxResultCount, 20);
    assert.equal(searchNearbyBody({ latitude: 0, longitude: 0 }, 60_000, 0).maxResultCount, 1);
    assert.equal(searchNearbyBody({ latitude: 0, longitude: 0 }, 60_000, 1).locationRestriction.circle.radius, 50_000);
  });
});

describe('field masks', () => {
  test('only places.* fields the legacy shape needs, no spaces, no wildcard', () => {
    for (const mask of Object.values(NEW_FIELD_MASKS)) {
      assert.match(mask, /^places\.[A-Za-z.]+(,places\.[A-Za-z.]+)*$/);
      assert.ok(!mask.includes('*'));
    }
  });
  test('enterprise is the reference\'s "faithful legacy shape" mask', () => {
    assert.equal(
      NEW_FIELD_MASKS.enterprise,
      'places.id,places.displayName,places.location,places.viewport,places.types,places.shortFormattedAddress,places.businessStatus,places.plusCode,places.iconMaskBaseUri,places.iconBackgroundColor,places.photos,places.attributions,places.rating,places.userRatingCount,places.priceLevel,places.currentOpeningHours.openNow',
    );
  });
  test('pro leaves out exactly the Enterprise fields', () => {
    const enterprise = NEW_FIELD_MASKS.enterprise.split(',');
    const pro = NEW_FIELD_MASKS.pro.split(',');
    assert.deepEqual(
      enterprise.filter((field) => !pro.includes(field)),
      ['places.rating', 'places.userRatingCount', 'places.priceLevel', 'places.currentOpeningHours.openNow'],
    );
    assert.ok(pro.every((field) => enterprise.includes(field)));
  });
});

describe('mapping places to legacy results', () => {
  test('the fixture maps field by field, in legacy key order, closed places left out', () => {
    const response = legacyResponseFromSearchNearby(NEW_OK);
    assert.ok(response !== undefined);
    // Exact text, so the key order is checked too.
    assert.equal(formatGoogleJson(response), formatGoogleJson(NEW_OK_AS_LEGACY));
  });

  test('price levels, business statuses and the vicinity fallback', () => {
    const base = { id: 'p1', location: { latitude: 1, longitude: 2 }, displayName: { text: 'Somewhere' } };
    const levels = [
      'PRICE_LEVEL_FREE',
      'PRICE_LEVEL_INEXPENSIVE',
      'PRICE_LEVEL_MODERATE',
      'PRICE_LEVEL_EXPENSIVE',
      'PRICE_LEVEL_VERY_EXPENSIVE',
    ];
    levels.forEach((priceLevel, i) => assert.equal(legacyResultFromPlace({ ...base, priceLevel })?.price_level, i));
    assert.equal(legacyResultFromPlace({ ...base, priceLevel: 'PRICE_LEVEL_UNSPECIFIED' })?.price_level, undefined);
    assert.equal(legacyResultFromPlace({ ...base, businessStatus: 'FUTURE_OPENING' })?.business_status, undefined);
    assert.equal(
      legacyResultFromPlace({ ...base, businessStatus: 'CLOSED_TEMPORARILY' })?.business_status,
      'CLOSED_TEMPORARILY',
    );
    assert.deepEqual(legacyResultFromPlace(base), {
      geometry: { location: { lat: 1, lng: 2 } },
      name: 'Somewhere',
      place_id: 'p1',
      reference: 'p1',
      scope: 'GOOGLE',
      types: [],
      vicinity: 'Somewhere',
    });
  });

  test('proto3 JSON leaves out a zero coordinate; a place without id or location is skipped', () => {
    assert.deepEqual(legacyResultFromPlace({ id: 'eq', location: { longitude: 5 } })?.geometry, {
      location: { lat: 0, lng: 5 },
    });
    assert.equal(legacyResultFromPlace({ id: 'x' }), undefined);
    assert.equal(legacyResultFromPlace({ location: { latitude: 1, longitude: 1 } }), undefined);
    assert.equal(legacyResultFromPlace('nonsense'), undefined);
  });

  test('{} is ZERO_RESULTS; a non-array places is not a response', () => {
    assert.deepEqual(legacyResponseFromSearchNearby({}), {
      html_attributions: [],
      results: [],
      status: 'ZERO_RESULTS',
    });
    assert.equal(legacyResponseFromSearchNearby({ places: 'x' }), undefined);
    assert.equal(legacyResponseFromSearchNearby([]), undefined);
  });
});

describe('errors', () => {
  test('legacyStatusForNewError follows the reference table', () => {
    assert.equal(legacyStatusForNewError(400, 'INVALID_ARGUMENT', []), 'INVALID_REQUEST');
    assert.equal(legacyStatusForNewError(400, 'INVALID_ARGUMENT', ['API_KEY_INVALID']), 'REQUEST_DENIED');
    assert.equal(
      legacyStatusForNewError(403, 'PERMISSION_DENIED', ['API_KEY_HTTP_REFERRER_BLOCKED']),
      'REQUEST_DENIED',
    );
    assert.equal(legacyStatusForNewError(401, 'UNAUTHENTICATED', []), 'REQUEST_DENIED');
    assert.equal(legacyStatusForNewError(429, 'RESOURCE_EXHAUSTED', []), 'OVER_QUERY_LIMIT');
    assert.equal(legacyStatusForNewError(500, 'INTERNAL', []), 'UNKNOWN_ERROR');
    assert.equal(legacyStatusForNewError(503, undefined, []), 'UNKNOWN_ERROR');
    assert.equal(legacyStatusForNewError(403, undefined, []), 'REQUEST_DENIED');
    assert.equal(legacyStatusForNewError(404, 'NOT_FOUND', []), 'UNKNOWN_ERROR');
  });

  test('error.message becomes error_message; 429 and 5xx are transient', () => {
    const denied = newErrorBody(
      403,
      'PERMISSION_DENIED',
      'Places API (New) has not been used in project 123 before or it is disabled.',
    );
    assert.deepEqual(interpretNewExchange(exchange(403, denied)), {
      response: failedNearbySearch(
        'REQUEST_DENIED',
        'Places API (New) has not been used in project 123 before or it is disabled.',
      ),
      transient: false,
    });
    assert.deepEqual(
      interpretNewExchange(exchange(500, newErrorBody(500, 'INTERNAL', 'Internal error encountered.'))),
      {
        response: failedNearbySearch('UNKNOWN_ERROR', 'Internal error encountered.'),
        transient: true,
      },
    );
    assert.deepEqual(interpretNewExchange(exchange(502, '<html>bad gateway</html>', 'Bad Gateway')), {
      response: failedNearbySearch('UNKNOWN_ERROR', 'Google Places API (New) answered HTTP 502 Bad Gateway'),
      transient: true,
    });
  });

  test('malformed JSON or another shape on 200 is UNKNOWN_ERROR', () => {
    assert.deepEqual(interpretNewExchange(exchange(200, '{"places": [')), {
      response: failedNearbySearch('UNKNOWN_ERROR', 'Google Places API (New) answered malformed JSON (HTTP 200)'),
      transient: false,
    });
    assert.deepEqual(interpretNewExchange(exchange(200, { places: {} })), {
      response: failedNearbySearch(
        'UNKNOWN_ERROR',
        'Google Places API (New) answered JSON that is not a searchNearby response (HTTP 200)',
      ),
      transient: false,
    });
  });
});
