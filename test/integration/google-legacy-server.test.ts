/**
 * The legacy Nearby Search source (docs/places.md) end to end against a fake Google
 * (test/helpers/fake-google.ts): each case asserts the exact WHATSAT reply a client gets from a real
 * HerdServer; the last test scans the logs for the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LEGACY_INVALID_REQUEST,
  LEGACY_OK,
  LEGACY_OVER_QUERY_LIMIT,
  LEGACY_REQUEST_DENIED,
  LEGACY_UNKNOWN_ERROR,
  LEGACY_ZERO_RESULTS,
} from '../helpers/google-fixtures.js';
import { json, text, type Responder } from '../helpers/fake-google.js';
import * as google from '../helpers/google-rig.js';
import { waitUntil } from '../helpers/herd-process.js';

/** A legacy 429 (plain text) whose `Retry-After` asks for a retry after `seconds`. */
function slowDown(seconds: number): Responder {
  return (request, res, req) => {
    res.setHeader('retry-after', String(seconds));
    text(429, 'slow down', 'text/plain')(request, res, req);
  };
}

google.googleSourceSuite(
  'google (legacy Nearby Search) through a HerdServer',
  {
    source: 'google',
    name: 'Legacy',
    prefix: '/maps-proxy',
  },
  (rig) => {
    test("OK: Google's document passed on, results cut to the bound, next_page_token kept", async () => {
      const reply = google.replyOf(rig.atLine, { ...LEGACY_OK, results: LEGACY_OK.results.slice(0, 3) });
      assert.ok(reply.includes('"next_page_token" : "AUGGfZmQ3x7c'));
      await google.assertWhatsat(rig, '1.1', 3, [json(200, LEGACY_OK)], reply);
    });

    test('ZERO_RESULTS', async () => {
      await google.assertWhatsat(
        rig,
        '0.8',
        5,
        [json(200, LEGACY_ZERO_RESULTS)],
        google.errorReplyOf(rig.atLine, 'ZERO_RESULTS'),
      );
    });

    test('OVER_QUERY_LIMIT in the body is passed on and not retried', async () => {
      await google.assertWhatsat10km(
        rig,
        [json(200, LEGACY_OVER_QUERY_LIMIT)],
        google.errorReplyOf(rig.atLine, 'OVER_QUERY_LIMIT', 'You have exceeded your rate-limit for this API.'),
      );
    });

    test("REQUEST_DENIED keeps Google's message, trailing space included", async () => {
      await google.assertWhatsat10km(
        rig,
        [json(200, LEGACY_REQUEST_DENIED)],
        google.errorReplyOf(rig.atLine, 'REQUEST_DENIED', 'The provided API key is invalid. '),
      );
    });

    test('INVALID_REQUEST', async () => {
      await google.assertWhatsat10km(
        rig,
        [json(200, LEGACY_INVALID_REQUEST)],
        google.errorReplyOf(rig.atLine, 'INVALID_REQUEST'),
      );
    });

    test('UNKNOWN_ERROR in the body is retried once', async () => {
      await google.assertWhatsat(
        rig,
        '10',
        2,
        [json(200, LEGACY_UNKNOWN_ERROR), json(200, LEGACY_OK)],
        google.replyOf(rig.atLine, { ...LEGACY_OK, results: LEGACY_OK.results.slice(0, 2) }),
      );
    });

    test('HTTP 500 twice: UNKNOWN_ERROR after one retry', async () => {
      await google.assertWhatsat10km(
        rig,
        [text(500, '<html>Server Error</html>'), text(500, '<html>Server Error</html>')],
        google.errorReplyOf(
          rig.atLine,
          'UNKNOWN_ERROR',
          'Google Places API (Legacy) answered HTTP 500 Internal Server Error',
        ),
      );
    });

    test('429 with Retry-After: 0 is retried at once and the retry answers', async () => {
      await google.assertWhatsat(
        rig,
        '10',
        1,
        [slowDown(0), json(200, LEGACY_OK)],
        google.replyOf(rig.atLine, { ...LEGACY_OK, results: LEGACY_OK.results.slice(0, 1) }),
      );
    });

    test('429 with a Retry-After beyond the time budget: OVER_QUERY_LIMIT at once', async () => {
      await google.assertAnsweredWithoutWaiting(
        rig,
        slowDown(30),
        google.errorReplyOf(
          rig.atLine,
          'OVER_QUERY_LIMIT',
          'Google Places API (Legacy) answered HTTP 429 Too Many Requests',
        ),
      );
    });

    google.transportFailureTests(rig, 'Google Places API (Legacy)', '{"html_attributions": [], "results": [', {
      responder: json(200, LEGACY_OK),
      reply: (atLine) => google.replyOf(atLine, LEGACY_OK),
    });

    test('identical concurrent look-ups share one request to Google', async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      rig.fake.answer({ radiusMeters: 5000, limit: 20 }, async (request, res, req) => {
        await gate;
        json(200, LEGACY_OK)(request, res, req);
      });
      const before = rig.places.calls;
      const first = google.whatsat(rig, '5', 2);
      const second = google.whatsat(rig, '5', 4);
      await waitUntil(
        () => rig.places.calls === before + 2 && rig.fake.requests.length === 1,
        5000,
        'both look-ups to be in flight',
      );
      release();
      const [a, b] = await Promise.all([first, second]);
      assert.equal(a.reply, google.replyOf(rig.atLine, { ...LEGACY_OK, results: LEGACY_OK.results.slice(0, 2) }));
      assert.equal(b.reply, google.replyOf(rig.atLine, LEGACY_OK));
      google.assertRequests(rig.fake, 1);
    });
  },
);
