/**
 * A HerdServer whose places source is a real Google source pointed at a {@link FakeGoogle}, on
 * 127.0.0.1 port 0, logging at debug level into a temporary folder; and the scan that no log and no
 * CLI output of a test file holds the API key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
import { FakeGoogle, hang, reset, text, type Responder } from './fake-google.js';
import { TEST_API_KEY } from './google-fixtures.js';
import { exchange } from './herd-process.js';

/**
 * The time budget of the sources under test: short, so that the hang cases are quick, and long
 * enough that a loaded machine answers every other case within it.
 */
export const TIMEOUT_MS = 1500;
export const FIXED_CLOCK: WallClock = fixedWallClock(1_700_000_010_500_000_000n);
export const IAMAT = 'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1700000000\n';

/**
 * What a test file wrote and printed, for its final scan for the key ({@link assertNoKeyLeaked}), and
 * the folders to remove when it is done.
 */
export class KeyWatch {
  /** Every folder of log files. */
  readonly logDirs: string[] = [];
  /** Temporary folders to remove at the end. */
  readonly tempDirs: string[] = [];
  /** Everything the CLI runs printed. */
  readonly printed: string[] = [];

  /**
   * Asserts that no log file under {@link logDirs} and no printed line holds the key, and that the
   * scan read at least `minFiles` log files and `minLookUps` look-up lines (or it proves nothing).
   */
  async assertNoKeyLeaked(minFiles: number, minLookUps: number): Promise<void> {
    let files = 0;
    let placesLines = 0;
    for (const dir of this.logDirs) {
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
    assert.ok(files >= minFiles, `scanned ${files} log files`);
    assert.ok(placesLines >= minLookUps, `scanned ${placesLines} look-up lines`);
    for (const line of this.printed) assert.ok(!line.includes(TEST_API_KEY), `CLI output contains the key: ${line}`);
  }

  /** Removes {@link tempDirs}. */
  async cleanup(): Promise<void> {
    for (const dir of this.tempDirs) await rm(dir, { recursive: true, force: true });
  }
}

/** A source that counts the look-ups it is asked for, in front of the real one. */
export class CountingPlaces implements PlacesProvider {
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

export interface Rig {
  fake: FakeGoogle;
  server: HerdServer;
  places: CountingPlaces;
  port: number;
  log: ServerLog;
  atLine: string;
  close(): Promise<void>;
}

/** Starts a fake Google for `source` under path `prefix` and a server `name` asking it; the client of {@link IAMAT} has checked in. */
export async function startRig(
  source: Exclude<PlacesSource, 'offline'>,
  name: string,
  prefix: string,
  watch: KeyWatch,
): Promise<Rig> {
  const fake = await FakeGoogle.start(source === 'google' ? 'legacy' : 'new', prefix);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-google-'));
  watch.tempDirs.push(dir);
  watch.logDirs.push(dir);
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

/**
 * For the calling `describe()`: a rig ({@link startRig}) started before its tests and closed after
 * them. The object returned is empty until its `before()` has run, so read it only inside tests.
 */
export function rigFor(source: Exclude<PlacesSource, 'offline'>, name: string, prefix: string, watch: KeyWatch): Rig {
  const rig = {} as Rig;
  before(async () => {
    Object.assign(rig, await startRig(source, name, prefix, watch));
  });
  after(async () => {
    await rig.close?.();
  });
  return rig;
}

/** Sends one WHATSAT and returns the reply and how long it took, ms. */
export async function whatsat(rig: Rig, radiusKm: string, bound: number): Promise<{ reply: string; ms: number }> {
  const started = performance.now();
  const reply = await exchange(rig.port, `WHATSAT kiwi.cs.ucla.edu ${radiusKm} ${bound}\n`);
  return { reply, ms: performance.now() - started };
}

/** The exact WHATSAT reply for a document (docs/protocol.md "Client commands"). */
export function replyOf(atLine: string, document: unknown): string {
  return `${atLine}\n${formatGoogleJson(document)}\n\n`;
}

/** Asserts the fake saw `count` well-formed requests. */
export function assertRequests(fake: FakeGoogle, count: number): void {
  assert.deepEqual(fake.problems, []);
  assert.equal(fake.requests.length, count);
}

/**
 * The exact WHATSAT reply for a look-up that failed with legacy `status`, with an `error_message`
 * when there is one (written out, not formatted by the server's code: docs/places.md "What clients
 * get when Google fails").
 */
export function errorReplyOf(atLine: string, status: string, message?: string): string {
  const error = message === undefined ? '' : `   "error_message" : ${JSON.stringify(message)},\n`;
  return `${atLine}\n{\n${error}   "html_attributions" : [],\n   "results" : [],\n   "status" : "${status}"\n}\n\n`;
}

/**
 * Has the fake answer a look-up of `radiusKm` (the WHATSAT operand, e.g. `'1.1'`) times 1000 m,
 * rounded (1.1 km is 1100.0000000000002 m in floating point: the request must say 1100), and `bound`
 * results with `responders` (one per attempt); sends the WHATSAT, and asserts the reply is
 * `expected` and that the fake saw `requests` well-formed requests.
 */
export async function assertWhatsat(
  rig: Rig,
  radiusKm: string,
  bound: number,
  responders: readonly Responder[],
  expected: string,
  requests = responders.length,
): Promise<void> {
  rig.fake.answer({ radiusMeters: Math.round(Number(radiusKm) * 1000), limit: bound }, ...responders);
  assert.equal((await whatsat(rig, radiusKm, bound)).reply, expected);
  assertRequests(rig.fake, requests);
}

/** {@link assertWhatsat} for 10 km and 5 results. */
export async function assertWhatsat10km(
  rig: Rig,
  responders: readonly Responder[],
  expected: string,
  requests = responders.length,
): Promise<void> {
  await assertWhatsat(rig, '10', 5, responders, expected, requests);
}

/**
 * Has the fake answer a WHATSAT for 10 km and 5 results with `responder` (one that must not be
 * retried, e.g. a 429 whose `Retry-After` is beyond the time budget), and asserts the reply is
 * `expected`, sent before the budget ran out, after one request.
 */
export async function assertAnsweredWithoutWaiting(rig: Rig, responder: Responder, expected: string): Promise<void> {
  rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, responder);
  const { reply, ms } = await whatsat(rig, '10', 5);
  assert.equal(reply, expected);
  assert.ok(ms < TIMEOUT_MS, `answered in ${ms} ms, without waiting`);
  assertRequests(rig.fake, 1);
}

/**
 * For the calling `describe()` of one Google source: the failures its shared HTTP client
 * (src/places/google-http.ts) handles alike for both APIs, each with the exact reply.
 *
 * @param label - how the source's messages name its API, e.g. `Google Places API (New)`.
 * @param malformedJson - a truncated body of the API's own shape.
 * @param answer - a good answer, and the reply a client gets for it (10 km, 5 results).
 */
export function transportFailureTests(
  rig: Rig,
  label: string,
  malformedJson: string,
  answer: { responder: Responder; reply: (atLine: string) => string },
): void {
  test('malformed JSON: UNKNOWN_ERROR, not retried', async () => {
    await assertWhatsat10km(
      rig,
      [text(200, malformedJson, 'application/json')],
      errorReplyOf(rig.atLine, 'UNKNOWN_ERROR', `${label} answered malformed JSON (HTTP 200)`),
    );
  });

  test('a hang past the timeout: UNKNOWN_ERROR when the time budget runs out', async () => {
    rig.fake.answer({ radiusMeters: 10_000, limit: 5 }, hang);
    const { reply, ms } = await whatsat(rig, '10', 5);
    assert.equal(reply, errorReplyOf(rig.atLine, 'UNKNOWN_ERROR', `${label} did not answer within ${TIMEOUT_MS} ms`));
    assert.ok(ms >= TIMEOUT_MS - 5 && ms < TIMEOUT_MS + 1000, `answered after ${ms} ms`);
    assertRequests(rig.fake, 1);
  });

  test('a connection reset twice: UNKNOWN_ERROR after one retry', async () => {
    await assertWhatsat10km(
      rig,
      [reset, reset],
      errorReplyOf(rig.atLine, 'UNKNOWN_ERROR', `${label} could not be reached: UND_ERR_SOCKET other side closed`),
    );
  });

  test('a connection reset then an answer: the retry answers', async () => {
    await assertWhatsat10km(rig, [reset, answer.responder], answer.reply(rig.atLine));
  });
}

/**
 * For a test file of one Google source: a last suite that asserts no log file and no CLI output of
 * the file held the API key ({@link KeyWatch.assertNoKeyLeaked}), and the watch's clean-up after it.
 */
export function keyNeverLeaks(watch: KeyWatch): void {
  describe('the key never leaks', { timeout: 60_000 }, () => {
    test('no log file and no CLI output contains the API key', async () => {
      await watch.assertNoKeyLeaked(1, 10);
    });
  });
  after(async () => {
    await watch.cleanup();
  });
}

/**
 * A test file's suite of one Google source: `body` declares its tests against a rig
 * ({@link rigFor}) started before them, and a last suite checks that no log file and no CLI output
 * held the API key ({@link keyNeverLeaks}).
 */
export function googleSourceSuite(
  title: string,
  rigOf: { source: Exclude<PlacesSource, 'offline'>; name: string; prefix: string },
  body: (rig: Rig) => void,
): void {
  const watch = new KeyWatch();
  describe(title, { timeout: 120_000 }, () => {
    body(rigFor(rigOf.source, rigOf.name, rigOf.prefix, watch));
  });
  keyNeverLeaks(watch);
}
