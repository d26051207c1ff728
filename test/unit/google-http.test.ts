/** The Google sources' HTTP policy: Retry-After, the time budget, at most one retry, key scrubbing. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GoogleHttpClient,
  type AttemptOutcome,
  type FetchFunction,
  type GoogleHttpOptions,
  type HttpExchange,
} from '../../src/places/google-http.js';
import { legacyStatusForHttp, parseRetryAfterMs } from '../../src/places/google-failures.js';
import { REDACTED, scrubResponse, scrubSecret } from '../../src/places/google-key-scrub.js';
import { failedNearbySearch } from '../../src/places/provider.js';
import { TEST_API_KEY } from '../helpers/google-fixtures.js';

/** Interprets 200 as OK and anything else as a transient UNKNOWN_ERROR naming the status. */
const interpret = (exchange: HttpExchange): AttemptOutcome =>
  exchange.status === 200
    ? { response: { html_attributions: [], results: [], status: 'ZERO_RESULTS' }, transient: false }
    : {
        response: failedNearbySearch(legacyStatusForHttp(exchange.status), `HTTP ${exchange.status}`),
        transient: exchange.status >= 429,
      };

interface Scripted {
  fetch: FetchFunction;
  calls: { url: string; init: RequestInit }[];
}

/** A fetch that answers each call with the next scripted step. */
function scriptedFetch(steps: (() => Response | Promise<Response>)[]): Scripted {
  const calls: Scripted['calls'] = [];
  return {
    calls,
    fetch: async (url, init) => {
      calls.push({ url, init });
      const step = steps[calls.length - 1];
      if (step === undefined) throw new Error('unexpected extra request');
      return step();
    },
  };
}

/** A client on a fake clock: `sleep` advances it and records each wait. */
function client(
  fetch: FetchFunction,
  options: Partial<GoogleHttpOptions> = {},
): { http: GoogleHttpClient; sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  const http = new GoogleHttpClient({
    source: 'google-new',
    label: 'Google Places API (New)',
    apiKey: TEST_API_KEY,
    timeoutMs: 5000,
    fetch,
    now: () => now,
    wallNow: () => Date.UTC(2026, 0, 1),
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0,
    ...options,
  });
  return { http, sleeps };
}

const request = { url: `http://127.0.0.1:9/v1/places:searchNearby?key=${TEST_API_KEY}`, init: { method: 'POST' } };

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  test('delay-seconds', () => {
    assert.equal(parseRetryAfterMs('0', now), 0);
    assert.equal(parseRetryAfterMs(' 3 ', now), 3000);
  });
  test('an HTTP-date, relative to now, never negative', () => {
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 12:00:02 GMT', now), 2000);
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 11:00:00 GMT', now), 0);
  });
  test('absent or unparsable', () => {
    assert.equal(parseRetryAfterMs(null, now), undefined);
    assert.equal(parseRetryAfterMs('-1', now), undefined);
    assert.equal(parseRetryAfterMs('1.5', now), undefined);
    assert.equal(parseRetryAfterMs('soon', now), undefined);
  });
});

describe('scrubbing the key', () => {
  test('plain, URL-encoded, and any key= query value', () => {
    const secret = 'a+b/c=d';
    assert.equal(scrubSecret(`x a+b/c=d y ${encodeURIComponent(secret)} z`, secret), `x ${REDACTED} y ${REDACTED} z`);
    assert.equal(
      scrubSecret('GET /json?location=1,2&key=OTHER&radius=5', 'unrelated'),
      `GET /json?location=1,2&key=${REDACTED}&radius=5`,
    );
  });
  test('a response is copied only when the key is in it', () => {
    const clean = failedNearbySearch('UNKNOWN_ERROR', 'nothing secret');
    assert.equal(scrubResponse(clean, TEST_API_KEY), clean);
    const dirty = {
      html_attributions: [],
      results: [{ name: `n ${TEST_API_KEY}`, place_id: 'p', types: [], geometry: { location: { lat: 0, lng: 0 } } }],
      status: 'OK',
    };
    const scrubbed = scrubResponse(dirty, TEST_API_KEY);
    assert.ok(!JSON.stringify(scrubbed).includes(TEST_API_KEY));
    assert.equal(scrubbed.results[0]?.name, `n ${REDACTED}`);
  });
});

describe('GoogleHttpClient', () => {
  test('a success is one request, with redirects not followed', async () => {
    const fake = scriptedFetch([() => new Response('{}', { status: 200 })]);
    const { http, sleeps } = client(fake.fetch);
    const response = await http.lookUp(request, interpret);
    assert.equal(response.status, 'ZERO_RESULTS');
    assert.equal(fake.calls.length, 1);
    assert.equal(fake.calls[0]?.init.redirect, 'manual');
    assert.deepEqual(sleeps, []);
  });

  test('a transient failure is retried once after RETRY_DELAY_MS plus jitter', async () => {
    const fake = scriptedFetch([() => new Response('', { status: 503 }), () => new Response('{}', { status: 200 })]);
    const { http, sleeps } = client(fake.fetch, { random: () => 0.5 });
    assert.equal((await http.lookUp(request, interpret)).status, 'ZERO_RESULTS');
    assert.equal(fake.calls.length, 2);
    assert.deepEqual(sleeps, [125]);
  });

  test('at most one retry: two failures answer the second one', async () => {
    const fake = scriptedFetch([() => new Response('', { status: 500 }), () => new Response('', { status: 429 })]);
    const { http } = client(fake.fetch);
    const response = await http.lookUp(request, interpret);
    assert.deepEqual(response, failedNearbySearch('OVER_QUERY_LIMIT', 'HTTP 429'));
    assert.equal(fake.calls.length, 2);
  });

  test('429 waits the Retry-After Google asks for', async () => {
    const fake = scriptedFetch([
      () => new Response('', { status: 429, headers: { 'retry-after': '2' } }),
      () => new Response('{}', { status: 200 }),
    ]);
    const { http, sleeps } = client(fake.fetch);
    assert.equal((await http.lookUp(request, interpret)).status, 'ZERO_RESULTS');
    assert.deepEqual(sleeps, [2000]);
  });

  test('a Retry-After past the time budget is not waited for: the 429 is the answer at once', async () => {
    const fake = scriptedFetch([() => new Response('', { status: 429, headers: { 'retry-after': '5' } })]);
    const { http, sleeps } = client(fake.fetch);
    assert.deepEqual(await http.lookUp(request, interpret), failedNearbySearch('OVER_QUERY_LIMIT', 'HTTP 429'));
    assert.equal(fake.calls.length, 1);
    assert.deepEqual(sleeps, []);
  });

  test('retry: false never retries', async () => {
    const fake = scriptedFetch([() => new Response('', { status: 500 })]);
    const { http } = client(fake.fetch, { retry: false });
    assert.equal((await http.lookUp(request, interpret)).status, 'UNKNOWN_ERROR');
    assert.equal(fake.calls.length, 1);
  });

  test('a non-transient failure is not retried', async () => {
    const fake = scriptedFetch([() => new Response('', { status: 403 })]);
    const { http } = client(fake.fetch);
    assert.equal((await http.lookUp(request, interpret)).status, 'REQUEST_DENIED');
    assert.equal(fake.calls.length, 1);
  });

  test('a transport error that names the key is retried, and its message is scrubbed', async () => {
    const failure = (): never => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error(`socket hang up for ?key=${TEST_API_KEY}`), { code: 'ECONNRESET' }),
      });
    };
    const fake = scriptedFetch([failure, failure]);
    const { http } = client(fake.fetch);
    const response = await http.lookUp(request, interpret);
    assert.equal(fake.calls.length, 2);
    assert.deepEqual(
      response,
      failedNearbySearch(
        'UNKNOWN_ERROR',
        `Google Places API (New) could not be reached: ECONNRESET socket hang up for ?key=${REDACTED}`,
      ),
    );
  });

  test('a DNS failure (ENOTFOUND) is not retried', async () => {
    const fake = scriptedFetch([
      () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('getaddrinfo ENOTFOUND places.googleapis.com'), { code: 'ENOTFOUND' }),
        });
      },
    ]);
    const { http } = client(fake.fetch);
    assert.deepEqual(
      await http.lookUp(request, interpret),
      failedNearbySearch(
        'UNKNOWN_ERROR',
        'Google Places API (New) could not be reached: getaddrinfo ENOTFOUND places.googleapis.com',
      ),
    );
    assert.equal(fake.calls.length, 1);
  });

  test('the time budget aborts a hung request with UNKNOWN_ERROR', async () => {
    let signal: AbortSignal | undefined;
    const hang: FetchFunction = (_url, init) =>
      new Promise((_resolve, reject) => {
        signal = init.signal ?? undefined;
        signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    const http = new GoogleHttpClient({
      source: 'google',
      label: 'Google Places API (Legacy)',
      apiKey: TEST_API_KEY,
      timeoutMs: 30,
      fetch: hang,
    });
    const started = performance.now();
    const response = await http.lookUp(request, interpret);
    assert.ok(performance.now() - started >= 25);
    assert.equal(signal?.aborted, true);
    assert.deepEqual(
      response,
      failedNearbySearch('UNKNOWN_ERROR', 'Google Places API (Legacy) did not answer within 30 ms'),
    );
  });

  test('close() aborts look-ups in flight and refuses new ones', async () => {
    const hang: FetchFunction = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    const http = new GoogleHttpClient({
      source: 'google',
      label: 'L',
      apiKey: TEST_API_KEY,
      timeoutMs: 60_000,
      fetch: hang,
    });
    const pending = http.lookUp(request, interpret);
    http.close();
    assert.deepEqual(await pending, failedNearbySearch('UNKNOWN_ERROR', 'places source google is closed'));
    assert.deepEqual(
      await http.lookUp(request, interpret),
      failedNearbySearch('UNKNOWN_ERROR', 'places source google is closed'),
    );
  });

  test('a body larger than MAX_RESPONSE_BYTES is refused', async () => {
    const big = new Uint8Array(4 * 1024 * 1024 + 1);
    const fake = scriptedFetch([() => new Response(big, { status: 200 })]);
    const { http } = client(fake.fetch);
    assert.deepEqual(
      await http.lookUp(request, interpret),
      failedNearbySearch('UNKNOWN_ERROR', 'Google Places API (New) answered with more than 4194304 bytes'),
    );
  });
});
