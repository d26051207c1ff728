/**
 * The Places API (New) source (docs/places.md) end to end against a fake Google
 * (test/helpers/fake-google.ts): each case asserts the exact WHATSAT reply, in the legacy format, a
 * client gets from a real HerdServer; the last test scans the logs for the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { placesConfigSchema } from '../../src/config/herd-config.js';
import { createPlacesProvider } from '../../src/places/index.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { NEW_OK, NEW_OK_AS_LEGACY, TEST_API_KEY, newErrorBody } from '../helpers/google-fixtures.js';
import { json } from '../helpers/fake-google.js';
import * as google from '../helpers/google-rig.js';
import { exchange } from '../helpers/herd-process.js';

google.googleSourceSuite(
  'google-new (Places API (New)) through a HerdServer',
  {
    source: 'google-new',
    name: 'New',
    prefix: '',
  },
  (rig) => {
    test('OK: places mapped to legacy results; key and field mask in headers, bound as maxResultCount', async () => {
      await google.assertWhatsat(rig, '1.1', 5, [json(200, NEW_OK)], google.replyOf(rig.atLine, NEW_OK_AS_LEGACY));
    });

    test('ZERO_RESULTS for {}', async () => {
      await google.assertWhatsat(rig, '0.8', 5, [json(200, {})], google.errorReplyOf(rig.atLine, 'ZERO_RESULTS'));
    });

    /**
     * Google answers each of `attempts` attempts with the `google.rpc.Status` error `http` /
     * `rpc` / `message` (and an `ErrorInfo` `reason`); the client gets `legacy` with Google's message.
     */
    const assertNewError = async (
      attempts: 1 | 2,
      error: { http: number; rpc: string; message: string; reason?: string },
      legacy: string,
    ): Promise<void> => {
      const body = newErrorBody(error.http, error.rpc, error.message, error.reason);
      await google.assertWhatsat10km(
        rig,
        Array.from({ length: attempts }, () => json(error.http, body)),
        google.errorReplyOf(rig.atLine, legacy, error.message),
      );
    };

    test('OVER_QUERY_LIMIT: 429 RESOURCE_EXHAUSTED on both attempts', async () => {
      const message =
        "Quota exceeded for quota metric 'SearchNearby requests' and limit 'SearchNearby requests per minute'.";
      await assertNewError(2, { http: 429, rpc: 'RESOURCE_EXHAUSTED', message }, 'OVER_QUERY_LIMIT');
    });

    test('REQUEST_DENIED: 403 PERMISSION_DENIED, not retried', async () => {
      const message = 'Places API (New) has not been used in project 123 before or it is disabled.';
      await assertNewError(1, { http: 403, rpc: 'PERMISSION_DENIED', message }, 'REQUEST_DENIED');
    });

    test('REQUEST_DENIED: 400 with ErrorInfo API_KEY_INVALID', async () => {
      const message = 'API key not valid. Please pass a valid API key.';
      await assertNewError(
        1,
        { http: 400, rpc: 'INVALID_ARGUMENT', message, reason: 'API_KEY_INVALID' },
        'REQUEST_DENIED',
      );
    });

    test('INVALID_REQUEST: 400 INVALID_ARGUMENT', async () => {
      const message = 'Invalid radius. Radius must be in (0, 50000].';
      await assertNewError(1, { http: 400, rpc: 'INVALID_ARGUMENT', message }, 'INVALID_REQUEST');
    });

    test("HTTP 500 twice: UNKNOWN_ERROR with Google's message after one retry", async () => {
      await assertNewError(2, { http: 500, rpc: 'INTERNAL', message: 'Internal error encountered.' }, 'UNKNOWN_ERROR');
    });

    test('HTTP 500 then OK: the retry answers', async () => {
      await google.assertWhatsat10km(
        rig,
        [json(500, newErrorBody(500, 'INTERNAL', 'Internal error encountered.')), json(200, NEW_OK)],
        google.replyOf(rig.atLine, NEW_OK_AS_LEGACY),
      );
    });

    test('429 with Retry-After: 0 is retried at once and the retry answers', async () => {
      await google.assertWhatsat10km(
        rig,
        [
          json(429, newErrorBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), { 'retry-after': '0' }),
          json(200, NEW_OK),
        ],
        google.replyOf(rig.atLine, NEW_OK_AS_LEGACY),
      );
    });

    test('429 with a Retry-After beyond the time budget: OVER_QUERY_LIMIT at once', async () => {
      await google.assertAnsweredWithoutWaiting(
        rig,
        json(429, newErrorBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), { 'retry-after': '60' }),
        google.errorReplyOf(rig.atLine, 'OVER_QUERY_LIMIT', 'Quota exceeded.'),
      );
    });

    google.transportFailureTests(rig, 'Google Places API (New)', '{"places": [{"id": ', {
      responder: json(200, NEW_OK),
      reply: (atLine) => google.replyOf(atLine, NEW_OK_AS_LEGACY),
    });

    test('nobody listening (no network): UNKNOWN_ERROR well within the timeout', async () => {
      // A port that was just free: connection refused, as when Google is unreachable.
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const places = createPlacesProvider(
        placesConfigSchema.parse({ source: 'google-new', timeoutMs: google.TIMEOUT_MS }),
        {
          env: { GOOGLE_PLACES_API_KEY: TEST_API_KEY, GOOGLE_PLACES_NEW_URL: `http://127.0.0.1:${port}` },
        },
      );
      const server = new HerdServer({
        name: 'Offline',
        host: '127.0.0.1',
        port: 0,
        neighbours: [],
        places,
        logger: rig.log.logger,
        clock: google.FIXED_CLOCK,
      });
      const listening = await server.listen();
      try {
        const started = performance.now();
        const reply = await exchange(listening.client.port, `${google.IAMAT}WHATSAT kiwi.cs.ucla.edu 10 5\n`);
        const ms = performance.now() - started;
        const at = 'AT Offline +10.500000000 kiwi.cs.ucla.edu +34.068930-118.445127 1700000000';
        assert.equal(
          reply,
          `${at}\n${at}\n{\n   "error_message" : "Google Places API (New) could not be reached: connect ECONNREFUSED 127.0.0.1:${port}",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
        );
        assert.ok(ms < google.TIMEOUT_MS, `answered in ${ms} ms`);
      } finally {
        await server.close();
        await places.close?.();
      }
    });
  },
);
