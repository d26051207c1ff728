/**
 * The legacy Nearby Search source (docs/places.md) end to end against a fake Google
 * (test/helpers/fake-google.ts): each case asserts the exact WHATSAT reply a client gets from a real
 * HerdServer; the last test scans the logs for the key.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LEGACY_INVALID_REQUEST,
  LEGACY_OK,
  LEGACY_OVER_QUERY_LIMIT,
  LEGACY_REQUEST_DENIED,
  LEGACY_UNKNOWN_ERROR,
  LEGACY_ZERO_RESULTS,
} from '../helpers/google-fixtures.js';
import { hang, json, reset, text } from '../helpers/fake-google.js';
import {
  KeyWatch,
  TIMEOUT_MS,
  assertRequests,
  replyOf,
  rigFor,
  whatsat,
  assertWhatsat10km,
  errorReplyOf,
} from '../helpers/google-rig.js';
import { waitUntil } from '../helpers/herd-process.js';

const watch = new KeyWatch();

describe('google (legacy Nearby Search) through a HerdServer', { timeout: 120_000 }, () => {
  const rig = rigFor('google', 'Legacy', '/maps-proxy', watch);

  test("OK: Google's document passed on, results cut to the bound, next_page_token kept", async () => {
    rig.fake.answer({ radiusMeters: 1100, limit: 3 }, json(200, LEGACY_OK));
    // 1.1 km is 1100.0000000000002 m in floating point: the request says 1100.
    const { reply } = await whatsat(rig, '1.1', 3);
    assert.equal(reply, replyOf(rig.atLine, { ...LEGACY_OK, results: LEGACY_OK.results.slice(0, 3) }));
    assert.ok(reply.includes('"next_page_token" : "AUGGfZmQ3x7c'));
    assertRequests(rig.fake, 1);
  });

  test('ZERO_RESULTS', async () => {
    rig.fake.answer({ radiusMeters: 800, limit: 5 }, json(200, LEGACY_ZERO_RESULTS));
    assert.equal(
      (await whatsat(rig, '0.8', 5)).reply,
      `${rig.atLine}\n{\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "ZERO_RESULTS"\n}\n\n`,
    );
    assertRequests(rig.fake, 1);
  });

  test('OVER_QUERY_LIMIT in the body is passed on and not retried', async () => {
    await assertWhatsat10km(
      rig,
      [json(200, LEGACY_OVER_QUERY_LIMIT)],
      errorReplyOf(rig.atLine, 'OVER_QUERY_LIMIT', 'You have exceeded your rate-limit for this API.'),
    );
  });

  test("REQUEST_DENIED keeps Google's message, trailing space included", async () => {
    await assertWhatsat10km(
      rig,
      [json(200, LEGACY_REQUEST_DENIED)],
      errorReplyOf(rig.atLine, 'REQUEST_DENIED', 'The provided API key is invalid. '),
    );
  });

  test('INVALID_REQUEST', async () => {
    await assertWhatsat10km(rig, [json(200, LEGACY_INVALID_REQUEST)], errorReplyOf(rig.atLine, 'INVALID_REQUEST'));
  });

  test('UNKNOWN_ERROR in the body is retried once', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 2 }, json(200, LEGACY_UNKNOWN_ERROR), json(200, LEGACY_OK));
    assert.equal(
      (await whatsat(rig, '10', 2)).reply,
      replyOf(rig.atLine, { ...LEGACY_OK, results: LEGACY_OK.results.slice(0, 2) }),
    );
    assertRequests(rig.fake, 2);
  });

  test('HTTP 500 twice: UNKNOWN_ERROR after one retry', async () => {
    await assertWhatsat10km(
      rig,
      [text(500, '<html>Server Error</html>'), text(500, '<html>Server Error</html>')],
      errorReplyOf(rig.atLine, 'UNKNOWN_ERROR', 'Google Places API (Legacy) answered HTTP 500 Internal Server Error'),
    );
  });

  test('429 with Retry-After: 0 is retried at once and the retry answers', async () => {
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 1 },
      (request, res, req) => {
        res.setHeader('retry-after', '0');
        text(429, 'slow down', 'text/plain')(request, res, req);
      },
      json(200, LEGACY_OK),
    );
    assert.equal(
      (await whatsat(rig, '10', 1)).reply,
      replyOf(rig.atLine, { ...LEGACY_OK, results: LEGACY_OK.results.slice(0, 1) }),
    );
    assertRequests(rig.fake, 2);
  });

  test('429 with a Retry-After beyond the time budget: OVER_QUERY_LIMIT at once', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, (request, res, req) => {
      res.setHeader('retry-after', '30');
      text(429, 'slow down', 'text/plain')(request, res, req);
    });
    const { reply, ms } = await whatsat(rig, '10', 5);
    assert.equal(
      reply,
      `${rig.atLine}\n{\n   "error_message" : "Google Places API (Legacy) answered HTTP 429 Too Many Requests",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "OVER_QUERY_LIMIT"\n}\n\n`,
    );
    assert.ok(ms < TIMEOUT_MS, `answered in ${ms} ms, without waiting`);
    assertRequests(rig.fake, 1);
  });

  test('malformed JSON: UNKNOWN_ERROR, not retried', async () => {
    await assertWhatsat10km(
      rig,
      [text(200, '{"html_attributions": [], "results": [', 'application/json')],
      errorReplyOf(rig.atLine, 'UNKNOWN_ERROR', 'Google Places API (Legacy) answered malformed JSON (HTTP 200)'),
    );
  });

  test('a hang past the timeout: UNKNOWN_ERROR when the time budget runs out', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, hang);
    const { reply, ms } = await whatsat(rig, '10', 5);
    assert.equal(
      reply,
      `${rig.atLine}\n{\n   "error_message" : "Google Places API (Legacy) did not answer within ${TIMEOUT_MS} ms",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
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
        'Google Places API (Legacy) could not be reached: UND_ERR_SOCKET other side closed',
      ),
    );
  });

  test('a connection reset then an answer: the retry answers', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 4 }, reset, json(200, LEGACY_OK));
    assert.equal((await whatsat(rig, '10', 4)).reply, replyOf(rig.atLine, LEGACY_OK));
    assertRequests(rig.fake, 2);
  });

  test('identical concurrent look-ups share one request to Google', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    rig.fake.answer({ radiusMeters: 5000, limit: 20 }, async (request, res, req) => {
      await gate;
      json(200, LEGACY_OK)(request, res, req);
    });
    const before = rig.places.calls;
    const first = whatsat(rig, '5', 2);
    const second = whatsat(rig, '5', 4);
    await waitUntil(
      () => rig.places.calls === before + 2 && rig.fake.requests.length === 1,
      5000,
      'both look-ups to be in flight',
    );
    release();
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.reply, replyOf(rig.atLine, { ...LEGACY_OK, results: LEGACY_OK.results.slice(0, 2) }));
    assert.equal(b.reply, replyOf(rig.atLine, LEGACY_OK));
    assertRequests(rig.fake, 1);
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
