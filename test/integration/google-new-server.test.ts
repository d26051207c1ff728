/**
 * The Places API (New) source (docs/places.md) end to end against a fake Google
 * (test/helpers/fake-google.ts): each case asserts the exact WHATSAT reply, in the legacy format, a
 * client gets from a real HerdServer; the last test scans the logs for the key.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { placesConfigSchema } from '../../src/config/herd-config.js';
import { createPlacesProvider } from '../../src/places/index.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { NEW_OK, NEW_OK_AS_LEGACY, TEST_API_KEY, newErrorBody } from '../helpers/google-fixtures.js';
import { hang, json, reset, text } from '../helpers/fake-google.js';
import {
  FIXED_CLOCK,
  IAMAT,
  KeyWatch,
  TIMEOUT_MS,
  assertRequests,
  replyOf,
  rigFor,
  whatsat,
  assertWhatsat10km,
  errorReplyOf,
} from '../helpers/google-rig.js';
import { exchange } from '../helpers/herd-process.js';

const watch = new KeyWatch();

describe('google-new (Places API (New)) through a HerdServer', { timeout: 120_000 }, () => {
  const rig = rigFor('google-new', 'New', '', watch);

  test('OK: places mapped to legacy results; key and field mask in headers, bound as maxResultCount', async () => {
    rig.fake.answer({ radiusMeters: 1100, limit: 5 }, json(200, NEW_OK));
    const { reply } = await whatsat(rig, '1.1', 5);
    assert.equal(reply, replyOf(rig.atLine, NEW_OK_AS_LEGACY));
    assertRequests(rig.fake, 1);
  });

  test('ZERO_RESULTS for {}', async () => {
    rig.fake.answer({ radiusMeters: 800, limit: 5 }, json(200, {}));
    assert.equal(
      (await whatsat(rig, '0.8', 5)).reply,
      `${rig.atLine}\n{\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "ZERO_RESULTS"\n}\n\n`,
    );
    assertRequests(rig.fake, 1);
  });

  test('OVER_QUERY_LIMIT: 429 RESOURCE_EXHAUSTED on both attempts', async () => {
    const quota = newErrorBody(
      429,
      'RESOURCE_EXHAUSTED',
      "Quota exceeded for quota metric 'SearchNearby requests' and limit 'SearchNearby requests per minute'.",
    );
    await assertWhatsat10km(
      rig,
      [json(429, quota), json(429, quota)],
      errorReplyOf(
        rig.atLine,
        'OVER_QUERY_LIMIT',
        "Quota exceeded for quota metric 'SearchNearby requests' and limit 'SearchNearby requests per minute'.",
      ),
    );
  });

  test('REQUEST_DENIED: 403 PERMISSION_DENIED, not retried', async () => {
    await assertWhatsat10km(
      rig,
      [
        json(
          403,
          newErrorBody(
            403,
            'PERMISSION_DENIED',
            'Places API (New) has not been used in project 123 before or it is disabled.',
          ),
        ),
      ],
      errorReplyOf(
        rig.atLine,
        'REQUEST_DENIED',
        'Places API (New) has not been used in project 123 before or it is disabled.',
      ),
    );
  });

  test('REQUEST_DENIED: 400 with ErrorInfo API_KEY_INVALID', async () => {
    await assertWhatsat10km(
      rig,
      [
        json(
          400,
          newErrorBody(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', 'API_KEY_INVALID'),
        ),
      ],
      errorReplyOf(rig.atLine, 'REQUEST_DENIED', 'API key not valid. Please pass a valid API key.'),
    );
  });

  test('INVALID_REQUEST: 400 INVALID_ARGUMENT', async () => {
    await assertWhatsat10km(
      rig,
      [json(400, newErrorBody(400, 'INVALID_ARGUMENT', 'Invalid radius. Radius must be in (0, 50000].'))],
      errorReplyOf(rig.atLine, 'INVALID_REQUEST', 'Invalid radius. Radius must be in (0, 50000].'),
    );
  });

  test("HTTP 500 twice: UNKNOWN_ERROR with Google's message after one retry", async () => {
    const internal = newErrorBody(500, 'INTERNAL', 'Internal error encountered.');
    await assertWhatsat10km(
      rig,
      [json(500, internal), json(500, internal)],
      errorReplyOf(rig.atLine, 'UNKNOWN_ERROR', 'Internal error encountered.'),
    );
  });

  test('HTTP 500 then OK: the retry answers', async () => {
    await assertWhatsat10km(
      rig,
      [json(500, newErrorBody(500, 'INTERNAL', 'Internal error encountered.')), json(200, NEW_OK)],
      replyOf(rig.atLine, NEW_OK_AS_LEGACY),
    );
  });

  test('429 with Retry-After: 0 is retried at once and the retry answers', async () => {
    await assertWhatsat10km(
      rig,
      [
        json(429, newErrorBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), { 'retry-after': '0' }),
        json(200, NEW_OK),
      ],
      replyOf(rig.atLine, NEW_OK_AS_LEGACY),
    );
  });

  test('429 with a Retry-After beyond the time budget: OVER_QUERY_LIMIT at once', async () => {
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      json(429, newErrorBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), { 'retry-after': '60' }),
    );
    const { reply, ms } = await whatsat(rig, '10', 5);
    assert.equal(reply, errorReplyOf(rig.atLine, 'OVER_QUERY_LIMIT', 'Quota exceeded.'));
    assert.ok(ms < TIMEOUT_MS, `answered in ${ms} ms, without waiting`);
    assertRequests(rig.fake, 1);
  });

  test('malformed JSON: UNKNOWN_ERROR, not retried', async () => {
    await assertWhatsat10km(
      rig,
      [text(200, '{"places": [{"id": ', 'application/json')],
      errorReplyOf(rig.atLine, 'UNKNOWN_ERROR', 'Google Places API (New) answered malformed JSON (HTTP 200)'),
    );
  });

  test('a hang past the timeout: UNKNOWN_ERROR when the time budget runs out', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, hang);
    const { reply, ms } = await whatsat(rig, '10', 5);
    assert.equal(
      reply,
      errorReplyOf(rig.atLine, 'UNKNOWN_ERROR', `Google Places API (New) did not answer within ${TIMEOUT_MS} ms`),
    );
    assert.ok(ms >= TIMEOUT_MS - 5 && ms < TIMEOUT_MS + 1000, `answered after ${ms} ms`);
    assertRequests(rig.fake, 1);
  });

  test('a connection reset twice: UNKNOWN_ERROR after one retry', async () => {
    await assertWhatsat10km(
      rig,
      [reset, reset],
      errorReplyOf(
        rig.atLine,
        'UNKNOWN_ERROR',
        'Google Places API (New) could not be reached: UND_ERR_SOCKET other side closed',
      ),
    );
  });

  test('a connection reset then an answer: the retry answers', async () => {
    await assertWhatsat10km(rig, [reset, json(200, NEW_OK)], replyOf(rig.atLine, NEW_OK_AS_LEGACY));
  });

  test('nobody listening (no network): UNKNOWN_ERROR well within the timeout', async () => {
    // A port that was just free: connection refused, as when Google is unreachable.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const places = createPlacesProvider(placesConfigSchema.parse({ source: 'google-new', timeoutMs: TIMEOUT_MS }), {
      env: { GOOGLE_PLACES_API_KEY: TEST_API_KEY, GOOGLE_PLACES_NEW_URL: `http://127.0.0.1:${port}` },
    });
    const server = new HerdServer({
      name: 'Offline',
      host: '127.0.0.1',
      port: 0,
      neighbours: [],
      places,
      logger: rig.log.logger,
      clock: FIXED_CLOCK,
    });
    const listening = await server.listen();
    try {
      const started = performance.now();
      const reply = await exchange(listening.client.port, `${IAMAT}WHATSAT kiwi.cs.ucla.edu 10 5\n`);
      const ms = performance.now() - started;
      const at = 'AT Offline +10.500000000 kiwi.cs.ucla.edu +34.068930-118.445127 1700000000';
      assert.equal(
        reply,
        `${at}\n${at}\n{\n   "error_message" : "Google Places API (New) could not be reached: connect ECONNREFUSED 127.0.0.1:${port}",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
      );
      assert.ok(ms < TIMEOUT_MS, `answered in ${ms} ms`);
    } finally {
      await server.close();
      await places.close?.();
    }
  });
});

describe('the key never leaks', { timeout: 60_000 }, () => {
  test('no log file and no CLI output contains the API key', async () => {
    await watch.assertNoKeyLeaked(1, 10);
  });
});

after(async () => {
  await watch.cleanup();
});
