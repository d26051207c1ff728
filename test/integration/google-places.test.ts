/**
 * Google Places as a places source (issue 4), end to end against a fake Google: a real loopback
 * `http.createServer` that checks every request (method, path, query or body, headers, key, field
 * mask) and answers recorded-shape fixtures. Each case asserts the exact WHATSAT reply a client gets
 * from a real HerdServer; one suite runs the herd through the CLI (`herd start --places google-new`);
 * the last test scans every log for the key.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { placesConfigSchema } from '../../src/config/herd-config.js';
import { openServerLog, type ServerLog } from '../../src/observability/logger.js';
import {
  createPlacesProvider,
  type NearbySearchResponse,
  type PlacesProvider,
  type PlacesSource,
} from '../../src/places/index.js';
import { formatGoogleJson } from '../../src/protocol/google-json.js';
import type { LatLng } from '../../src/protocol/location.js';
import { fixedWallClock, type WallClock } from '../../src/protocol/time.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { RunningHerd, exchange, tempHerdConfig, waitUntil } from '../helpers/herd-process.js';
import { runCli } from '../helpers/cli.js';
import {
  LEGACY_INVALID_REQUEST,
  LEGACY_OK,
  LEGACY_OVER_QUERY_LIMIT,
  LEGACY_REQUEST_DENIED,
  LEGACY_UNKNOWN_ERROR,
  LEGACY_ZERO_RESULTS,
  NEW_OK,
  NEW_OK_AS_LEGACY,
  TEST_API_KEY,
  newErrorBody,
} from '../unit/google-fixtures.js';

/** The time budget of the sources under test: short, so the hang case is quick. */
const TIMEOUT_MS = 300;
const FIXED_CLOCK: WallClock = fixedWallClock(1_700_000_010_500_000_000n);
const IAMAT = 'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1700000000\n';
/**
 * The field mask the fake insists on, written out from the reference (section 3.6, "faithful legacy
 * shape"), not taken from the code under test.
 */
const ENTERPRISE_FIELD_MASK =
  'places.id,places.displayName,places.location,places.viewport,places.types,places.shortFormattedAddress,places.businessStatus,places.plusCode,places.iconMaskBaseUri,places.iconBackgroundColor,places.photos,places.attributions,places.rating,places.userRatingCount,places.priceLevel,places.currentOpeningHours.openNow';
/** What the fake expects in every request: the IAMAT location rounded to 6 decimals. */
const EXPECTED_LOCATION = { latitude: 34.06893, longitude: -118.445127 };

/** Every folder of log files these tests write, for the final scan. */
const logDirs: string[] = [];
/** Temporary folders to remove when the file is done. */
const tempDirs: string[] = [];
/** Everything the CLI runs printed, for the final scan. */
const printed: string[] = [];

// ---------------------------------------------------------------------------------------------
// The fake Google

type Api = 'legacy' | 'new';

interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** How the fake answers one request. */
type Responder = (request: FakeRequest, res: http.ServerResponse, req: http.IncomingMessage) => void | Promise<void>;
/** A responder that answers at once (so calling it from another responder needs no await). */
type ImmediateResponder = (request: FakeRequest, res: http.ServerResponse, req: http.IncomingMessage) => void;

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): ImmediateResponder =>
  (_request, res) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(body, null, 3));
  };
const text =
  (status: number, body: string, contentType = 'text/html; charset=UTF-8'): ImmediateResponder =>
  (_request, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  };
/** Accepts the request and never answers (the connection is torn down in `close`). */
const hang: Responder = () => undefined;
/** Drops the connection without a response. */
const reset: Responder = (_request, _res, req) => {
  req.socket.destroy();
};

/** What a request must carry, besides the fixed parts of its API. */
interface Expectation {
  radiusMeters: number;
  limit: number;
}

class FakeGoogle {
  readonly requests: FakeRequest[] = [];
  readonly problems: string[] = [];
  private script: Responder[] = [];
  private expectation: Expectation = { radiusMeters: 0, limit: 0 };

  private constructor(
    readonly api: Api,
    readonly prefix: string,
    private readonly server: http.Server,
  ) {}

  static async start(api: Api, prefix: string): Promise<FakeGoogle> {
    // Requests arrive only after listen(), when `fake` is set.
    const server = http.createServer((req, res) => void fake.handle(req, res));
    const fake = new FakeGoogle(api, prefix, server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The base URL to configure: scheme, host, port and path prefix. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.prefix}`;
  }

  /** Sets the answers to the next requests, in order, and what they must ask for; clears the record. */
  answer(expectation: Expectation, ...responders: Responder[]): void {
    this.expectation = expectation;
    this.script = responders;
    this.requests.length = 0;
    this.problems.length = 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const request: FakeRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(request);
    const problems = this.api === 'legacy' ? this.checkLegacy(request) : this.checkNew(request);
    if (problems.length > 0) {
      this.problems.push(...problems);
      json(400, { error: { code: 400, message: `fake Google: ${problems.join('; ')}`, status: 'INVALID_ARGUMENT' } })(
        request,
        res,
        req,
      );
      return;
    }
    const responder = this.script.shift();
    if (responder === undefined) {
      this.problems.push(`unexpected request #${this.requests.length}`);
      text(599, 'no scripted answer')(request, res, req);
      return;
    }
    await responder(request, res, req);
  }

  private checkLegacy(request: FakeRequest): string[] {
    const problems: string[] = [];
    if (request.method !== 'GET') problems.push(`method ${request.method}`);
    if (request.path !== `${this.prefix}/maps/api/place/nearbysearch/json`) problems.push(`path ${request.path}`);
    const expected = [
      ['location', `${EXPECTED_LOCATION.latitude},${EXPECTED_LOCATION.longitude}`],
      ['radius', String(this.expectation.radiusMeters)],
      ['key', TEST_API_KEY],
    ];
    if (JSON.stringify([...request.query]) !== JSON.stringify(expected))
      problems.push(`query ${request.query.toString().replace(TEST_API_KEY, 'KEY')}`);
    if (request.body !== '') problems.push('a GET with a body');
    if (request.headers['x-goog-api-key'] !== undefined)
      problems.push('legacy takes the key in the query, not a header');
    return problems;
  }

  private checkNew(request: FakeRequest): string[] {
    const problems: string[] = [];
    if (request.method !== 'POST') problems.push(`method ${request.method}`);
    if (request.path !== `${this.prefix}/v1/places:searchNearby`) problems.push(`path ${request.path}`);
    if ([...request.query].length > 0) problems.push('a query string (the key goes in a header)');
    if (request.headers['x-goog-api-key'] !== TEST_API_KEY) problems.push('X-Goog-Api-Key missing or wrong');
    if (request.headers['x-goog-fieldmask'] !== ENTERPRISE_FIELD_MASK)
      problems.push(`X-Goog-FieldMask ${String(request.headers['x-goog-fieldmask'])}`);
    if (!String(request.headers['content-type']).startsWith('application/json'))
      problems.push(`Content-Type ${String(request.headers['content-type'])}`);
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      problems.push('body is not JSON');
    }
    const expected = {
      maxResultCount: this.expectation.limit,
      locationRestriction: { circle: { center: EXPECTED_LOCATION, radius: this.expectation.radiusMeters } },
    };
    if (body !== undefined && JSON.stringify(body) !== JSON.stringify(expected)) problems.push(`body ${request.body}`);
    return problems;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// A HerdServer with a Google source

/** A source that counts the look-ups it is asked for, in front of the real one. */
class CountingPlaces implements PlacesProvider {
  calls = 0;
  constructor(readonly inner: PlacesProvider) {}
  get source(): string {
    return this.inner.source;
  }
  nearby(location: LatLng, radiusMeters: number, limit: number): Promise<NearbySearchResponse> {
    this.calls++;
    return this.inner.nearby(location, radiusMeters, limit);
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

interface Rig {
  fake: FakeGoogle;
  server: HerdServer;
  places: CountingPlaces;
  port: number;
  log: ServerLog;
  atLine: string;
  close(): Promise<void>;
}

async function startRig(source: Exclude<PlacesSource, 'offline'>, name: string, prefix: string): Promise<Rig> {
  const fake = await FakeGoogle.start(source === 'google' ? 'legacy' : 'new', prefix);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-google-'));
  tempDirs.push(dir);
  logDirs.push(dir);
  const log = openServerLog(dir, name, 'debug');
  const env = {
    GOOGLE_PLACES_API_KEY: TEST_API_KEY,
    [source === 'google' ? 'GOOGLE_PLACES_LEGACY_URL' : 'GOOGLE_PLACES_NEW_URL']: fake.baseUrl,
  };
  const places = new CountingPlaces(
    createPlacesProvider(placesConfigSchema.parse({ source, timeoutMs: TIMEOUT_MS }), { env, logger: log.logger }),
  );
  const server = new HerdServer({
    name,
    host: '127.0.0.1',
    port: 0,
    neighbours: [],
    places,
    logger: log.logger,
    clock: FIXED_CLOCK,
  });
  const {
    client: { port },
  } = await server.listen();
  const atLine = (await exchange(port, IAMAT)).trimEnd();
  assert.equal(atLine, `AT ${name} +10.500000000 kiwi.cs.ucla.edu +34.068930-118.445127 1700000000`);
  return {
    fake,
    server,
    places,
    port,
    log,
    atLine,
    close: async () => {
      await server.close();
      await places.close();
      await fake.close();
      log.flushSync();
    },
  };
}

/** Sends one WHATSAT and returns the reply and how long it took, ms. */
async function whatsat(rig: Rig, radiusKm: string, bound: number): Promise<{ reply: string; ms: number }> {
  const started = performance.now();
  const reply = await exchange(rig.port, `WHATSAT kiwi.cs.ucla.edu ${radiusKm} ${bound}\n`);
  return { reply, ms: performance.now() - started };
}

/** The exact WHATSAT reply for a document (docs/protocol.md "Client commands"). */
function replyOf(atLine: string, document: unknown): string {
  return `${atLine}\n${formatGoogleJson(document)}\n\n`;
}

/** Asserts the fake saw `count` well-formed requests. */
function assertRequests(fake: FakeGoogle, count: number): void {
  assert.deepEqual(fake.problems, []);
  assert.equal(fake.requests.length, count);
}

// ---------------------------------------------------------------------------------------------

describe('google (legacy Nearby Search) through a HerdServer', { timeout: 120_000 }, () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig('google', 'Legacy', '/maps-proxy');
  });
  after(async () => {
    await rig?.close();
  });

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
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, json(200, LEGACY_OVER_QUERY_LIMIT));
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      `${rig.atLine}\n{\n   "error_message" : "You have exceeded your rate-limit for this API.",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "OVER_QUERY_LIMIT"\n}\n\n`,
    );
    assertRequests(rig.fake, 1);
  });

  test("REQUEST_DENIED keeps Google's message, trailing space included", async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, json(200, LEGACY_REQUEST_DENIED));
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      `${rig.atLine}\n{\n   "error_message" : "The provided API key is invalid. ",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "REQUEST_DENIED"\n}\n\n`,
    );
    assertRequests(rig.fake, 1);
  });

  test('INVALID_REQUEST', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, json(200, LEGACY_INVALID_REQUEST));
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      `${rig.atLine}\n{\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "INVALID_REQUEST"\n}\n\n`,
    );
    assertRequests(rig.fake, 1);
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
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      text(500, '<html>Server Error</html>'),
      text(500, '<html>Server Error</html>'),
    );
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      `${rig.atLine}\n{\n   "error_message" : "Google Places API (Legacy) answered HTTP 500 Internal Server Error",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
    );
    assertRequests(rig.fake, 2);
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
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      text(200, '{"html_attributions": [], "results": [', 'application/json'),
    );
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      `${rig.atLine}\n{\n   "error_message" : "Google Places API (Legacy) answered malformed JSON (HTTP 200)",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
    );
    assertRequests(rig.fake, 1);
  });

  test('a hang past the timeout: UNKNOWN_ERROR when the time budget runs out', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, hang);
    const { reply, ms } = await whatsat(rig, '10', 5);
    assert.equal(
      reply,
      `${rig.atLine}\n{\n   "error_message" : "Google Places API (Legacy) did not answer within 300 ms",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
    );
    assert.ok(ms >= TIMEOUT_MS - 5 && ms < TIMEOUT_MS + 700, `answered after ${ms} ms`);
    assertRequests(rig.fake, 1);
  });

  test('a connection reset twice: UNKNOWN_ERROR after one retry', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, reset, reset);
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      `${rig.atLine}\n{\n   "error_message" : "Google Places API (Legacy) could not be reached: UND_ERR_SOCKET other side closed",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
    );
    assertRequests(rig.fake, 2);
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

describe('google-new (Places API (New)) through a HerdServer', { timeout: 120_000 }, () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig('google-new', 'New', '');
  });
  after(async () => {
    await rig?.close();
  });

  const errorReply = (status: string, message: string): string =>
    `${rig.atLine}\n{\n   "error_message" : ${JSON.stringify(message)},\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "${status}"\n}\n\n`;

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
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, json(429, quota), json(429, quota));
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      errorReply(
        'OVER_QUERY_LIMIT',
        "Quota exceeded for quota metric 'SearchNearby requests' and limit 'SearchNearby requests per minute'.",
      ),
    );
    assertRequests(rig.fake, 2);
  });

  test('REQUEST_DENIED: 403 PERMISSION_DENIED, not retried', async () => {
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      json(
        403,
        newErrorBody(
          403,
          'PERMISSION_DENIED',
          'Places API (New) has not been used in project 123 before or it is disabled.',
        ),
      ),
    );
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      errorReply('REQUEST_DENIED', 'Places API (New) has not been used in project 123 before or it is disabled.'),
    );
    assertRequests(rig.fake, 1);
  });

  test('REQUEST_DENIED: 400 with ErrorInfo API_KEY_INVALID', async () => {
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      json(
        400,
        newErrorBody(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', 'API_KEY_INVALID'),
      ),
    );
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      errorReply('REQUEST_DENIED', 'API key not valid. Please pass a valid API key.'),
    );
    assertRequests(rig.fake, 1);
  });

  test('INVALID_REQUEST: 400 INVALID_ARGUMENT', async () => {
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      json(400, newErrorBody(400, 'INVALID_ARGUMENT', 'Invalid radius. Radius must be in (0, 50000].')),
    );
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      errorReply('INVALID_REQUEST', 'Invalid radius. Radius must be in (0, 50000].'),
    );
    assertRequests(rig.fake, 1);
  });

  test("HTTP 500 twice: UNKNOWN_ERROR with Google's message after one retry", async () => {
    const internal = newErrorBody(500, 'INTERNAL', 'Internal error encountered.');
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, json(500, internal), json(500, internal));
    assert.equal((await whatsat(rig, '10', 5)).reply, errorReply('UNKNOWN_ERROR', 'Internal error encountered.'));
    assertRequests(rig.fake, 2);
  });

  test('HTTP 500 then OK: the retry answers', async () => {
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      json(500, newErrorBody(500, 'INTERNAL', 'Internal error encountered.')),
      json(200, NEW_OK),
    );
    assert.equal((await whatsat(rig, '10', 5)).reply, replyOf(rig.atLine, NEW_OK_AS_LEGACY));
    assertRequests(rig.fake, 2);
  });

  test('429 with Retry-After: 0 is retried at once and the retry answers', async () => {
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      json(429, newErrorBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), { 'retry-after': '0' }),
      json(200, NEW_OK),
    );
    assert.equal((await whatsat(rig, '10', 5)).reply, replyOf(rig.atLine, NEW_OK_AS_LEGACY));
    assertRequests(rig.fake, 2);
  });

  test('429 with a Retry-After beyond the time budget: OVER_QUERY_LIMIT at once', async () => {
    rig.fake.answer(
      { radiusMeters: 10_000, limit: 5 },
      json(429, newErrorBody(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), { 'retry-after': '60' }),
    );
    const { reply, ms } = await whatsat(rig, '10', 5);
    assert.equal(reply, errorReply('OVER_QUERY_LIMIT', 'Quota exceeded.'));
    assert.ok(ms < TIMEOUT_MS, `answered in ${ms} ms, without waiting`);
    assertRequests(rig.fake, 1);
  });

  test('malformed JSON: UNKNOWN_ERROR, not retried', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, text(200, '{"places": [{"id": ', 'application/json'));
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      errorReply('UNKNOWN_ERROR', 'Google Places API (New) answered malformed JSON (HTTP 200)'),
    );
    assertRequests(rig.fake, 1);
  });

  test('a hang past the timeout: UNKNOWN_ERROR when the time budget runs out', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, hang);
    const { reply, ms } = await whatsat(rig, '10', 5);
    assert.equal(reply, errorReply('UNKNOWN_ERROR', 'Google Places API (New) did not answer within 300 ms'));
    assert.ok(ms >= TIMEOUT_MS - 5 && ms < TIMEOUT_MS + 700, `answered after ${ms} ms`);
    assertRequests(rig.fake, 1);
  });

  test('a connection reset twice: UNKNOWN_ERROR after one retry', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, reset, reset);
    assert.equal(
      (await whatsat(rig, '10', 5)).reply,
      errorReply('UNKNOWN_ERROR', 'Google Places API (New) could not be reached: UND_ERR_SOCKET other side closed'),
    );
    assertRequests(rig.fake, 2);
  });

  test('a connection reset then an answer: the retry answers', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, reset, json(200, NEW_OK));
    assert.equal((await whatsat(rig, '10', 5)).reply, replyOf(rig.atLine, NEW_OK_AS_LEGACY));
    assertRequests(rig.fake, 2);
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

describe('herd start --places google-new (real processes)', { timeout: 120_000 }, () => {
  let fake: FakeGoogle;
  let herd: RunningHerd | undefined;
  let dir = '';

  before(async () => {
    fake = await FakeGoogle.start('new', '/places-proxy');
    const temp = await tempHerdConfig({
      servers: ['Alford', 'Ball'],
      links: [['Alford', 'Ball']],
      extra: { places: { source: 'offline', timeoutMs: 500 } },
    });
    dir = temp.dir;
    tempDirs.push(temp.dir);
    logDirs.push(path.join(temp.dir, 'logs'));
    herd = await RunningHerd.start(temp.configFile, ['--places', 'google-new'], {
      ...process.env,
      GOOGLE_PLACES_API_KEY: TEST_API_KEY,
      GOOGLE_PLACES_NEW_URL: fake.baseUrl,
    });
  });
  after(async () => {
    await herd?.stop();
    printed.push(...(herd?.output ?? []));
    await fake?.close();
    // The log scan at the end reads these logs: the folder goes in the file's last `after`.
  });

  test('WHATSAT answers from Places API (New) in the legacy format, and with an error within the timeout', async () => {
    assert.ok(herd !== undefined);
    const at = (await exchange(herd.port('Alford'), 'IAMAT cli-client +34.068930-118.445127 1700000000\n')).trimEnd();
    assert.match(at, /^AT Alford [+-]\d+\.\d{9} cli-client \+34\.068930-118\.445127 1700000000$/);
    fake.answer({ radiusMeters: 2000, limit: 3 }, json(200, NEW_OK));
    const ok = await exchange(herd.port('Alford'), 'WHATSAT cli-client 2 3\n');
    assert.equal(ok, replyOf(at, { ...NEW_OK_AS_LEGACY, results: NEW_OK_AS_LEGACY.results.slice(0, 3) }));
    assertRequests(fake, 1);

    fake.answer({ radiusMeters: 2000, limit: 3 }, hang);
    const started = performance.now();
    const failed = await exchange(herd.port('Alford'), 'WHATSAT cli-client 2 3\n');
    const ms = performance.now() - started;
    assert.equal(
      failed,
      `${at}\n{\n   "error_message" : "Google Places API (New) did not answer within 500 ms",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
    );
    assert.ok(ms >= 495 && ms < 1500, `answered after ${ms} ms`);
    assertRequests(fake, 1);
  });

  test('without GOOGLE_PLACES_API_KEY, herd start and herd serve refuse to start: exit 2 and a clear message', async () => {
    fake.answer({ radiusMeters: 0, limit: 0 });
    const env: NodeJS.ProcessEnv = { ...process.env, GOOGLE_PLACES_NEW_URL: fake.baseUrl };
    delete env.GOOGLE_PLACES_API_KEY;
    const configFile = path.join(dir, 'herd.json');
    for (const args of [
      ['start', '--config', configFile, '--places', 'google-new'],
      ['serve', 'Ball', '--config', configFile, '--places', 'google'],
    ]) {
      const { code, stdout, stderr } = await runCli(args, { env });
      const source = args.includes('google') ? 'google' : 'google-new';
      assert.equal(
        stderr,
        `herd: places source ${source} needs a Google API key: set the environment variable GOOGLE_PLACES_API_KEY (see docs/places.md)\n`,
      );
      assert.equal(code, 2, `${args[0]} exit code`);
      assert.equal(stdout, '', `${args[0]} started nothing`);
    }
    assertRequests(fake, 0);
  });
});

describe('the key never leaks', { timeout: 120_000 }, () => {
  test('no log file and no CLI output contains the API key', async () => {
    let files = 0;
    let placesLines = 0;
    for (const dir of logDirs) {
      for (const entry of await readdir(dir, { recursive: true })) {
        if (!entry.endsWith('.log')) continue;
        const file = path.join(dir, entry);
        const content = await readFile(file, 'utf8');
        files++;
        // A look-up is logged with its WHATSAT (`"places":{...}`), and a failed one on its own too.
        placesLines += content
          .split('\n')
          .filter((line) => line.includes('"event":"places"') || line.includes('"places":{"source"')).length;
        assert.ok(!content.includes(TEST_API_KEY), `${file} contains the key`);
        assert.ok(!content.includes(encodeURIComponent(TEST_API_KEY)), `${file} contains the URL-encoded key`);
      }
    }
    // The scan must have read the logs of every run above (2 in-process servers, 2 CLI servers), or it proves nothing.
    assert.ok(files >= 4, `scanned ${files} log files`);
    assert.ok(placesLines >= 30, `scanned ${placesLines} look-up lines`);
    for (const line of printed) assert.ok(!line.includes(TEST_API_KEY), `CLI output contains the key: ${line}`);
  });
});

after(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});
