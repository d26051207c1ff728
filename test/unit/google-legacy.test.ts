/** The legacy Nearby Search source without a network: request URLs and response interpretation. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDecimal, interpretLegacyExchange, legacyNearbyUrl } from '../../src/places/google-legacy.js';
import { failedNearbySearch } from '../../src/places/provider.js';
import {
  LEGACY_OK,
  LEGACY_OVER_QUERY_LIMIT,
  LEGACY_REQUEST_DENIED,
  LEGACY_UNKNOWN_ERROR,
  TEST_API_KEY,
  httpExchange as exchange,
} from '../helpers/google-fixtures.js';

describe('legacyNearbyUrl', () => {
  test('location, radius in metres and key; the base keeps its path prefix', () => {
    const url = new URL(
      legacyNearbyUrl(
        'http://127.0.0.1:8080/proxy/google',
        TEST_API_KEY,
        { latitude: 34.06893, longitude: -118.445127 },
        10_000,
      ),
    );
    assert.equal(url.pathname, '/proxy/google/maps/api/place/nearbysearch/json');
    assert.deepEqual(
      [...url.searchParams],
      [
        ['location', '34.06893,-118.445127'],
        ['radius', '10000'],
        ['key', TEST_API_KEY],
      ],
    );
  });

  test('formatDecimal never uses an exponent nor trailing zeros', () => {
    assert.equal(formatDecimal(1e-7), '0.0000001');
    assert.equal(formatDecimal(-0.5), '-0.5');
    assert.equal(formatDecimal(800), '800');
    assert.equal(formatDecimal(1100.0000000000002), '1100');
    assert.equal(formatDecimal(-0), '0');
  });
});

describe('interpretLegacyExchange', () => {
  test("OK is passed on whole, in Google's key order (the server applies the bound)", () => {
    const { response, transient } = interpretLegacyExchange(exchange(200, LEGACY_OK));
    assert.equal(transient, false);
    assert.deepEqual(Object.keys(response), ['html_attributions', 'next_page_token', 'results', 'status']);
    assert.deepEqual(response, LEGACY_OK);
  });

  test('non-OK statuses pass through; only UNKNOWN_ERROR is transient', () => {
    assert.deepEqual(interpretLegacyExchange(exchange(200, LEGACY_REQUEST_DENIED)), {
      response: LEGACY_REQUEST_DENIED,
      transient: false,
    });
    assert.deepEqual(interpretLegacyExchange(exchange(200, LEGACY_OVER_QUERY_LIMIT)), {
      response: LEGACY_OVER_QUERY_LIMIT,
      transient: false,
    });
    assert.deepEqual(interpretLegacyExchange(exchange(200, LEGACY_UNKNOWN_ERROR)), {
      response: LEGACY_UNKNOWN_ERROR,
      transient: true,
    });
  });

  test('a legacy body is authoritative on a non-200 too', () => {
    assert.deepEqual(interpretLegacyExchange(exchange(403, LEGACY_REQUEST_DENIED, 'Forbidden')), {
      response: LEGACY_REQUEST_DENIED,
      transient: false,
    });
  });

  test('a missing html_attributions is added as []', () => {
    const { response } = interpretLegacyExchange(exchange(200, { results: [], status: 'ZERO_RESULTS' }));
    assert.deepEqual(Object.entries(response), [
      ['html_attributions', []],
      ['results', []],
      ['status', 'ZERO_RESULTS'],
    ]);
  });

  test('malformed or foreign JSON on 200 is UNKNOWN_ERROR, not retried', () => {
    assert.deepEqual(interpretLegacyExchange(exchange(200, '{"results": [')), {
      response: failedNearbySearch('UNKNOWN_ERROR', 'Google Places API (Legacy) answered malformed JSON (HTTP 200)'),
      transient: false,
    });
    assert.deepEqual(interpretLegacyExchange(exchange(200, { places: [] })), {
      response: failedNearbySearch(
        'UNKNOWN_ERROR',
        'Google Places API (Legacy) answered JSON that is not a Nearby Search response (HTTP 200)',
      ),
      transient: false,
    });
  });

  test('HTTP errors without a legacy body map by status; 429 and 5xx are transient', () => {
    const cases: [number, string, string, boolean][] = [
      [500, 'Internal Server Error', 'UNKNOWN_ERROR', true],
      [503, 'Service Unavailable', 'UNKNOWN_ERROR', true],
      [429, 'Too Many Requests', 'OVER_QUERY_LIMIT', true],
      [403, 'Forbidden', 'REQUEST_DENIED', false],
      [400, 'Bad Request', 'INVALID_REQUEST', false],
      [404, 'Not Found', 'UNKNOWN_ERROR', false],
    ];
    for (const [status, text, legacy, transient] of cases) {
      assert.deepEqual(interpretLegacyExchange(exchange(status, '<html>oops</html>', text)), {
        response: failedNearbySearch(
          legacy as 'UNKNOWN_ERROR',
          `Google Places API (Legacy) answered HTTP ${status} ${text}`,
        ),
        transient,
      });
    }
  });
});
