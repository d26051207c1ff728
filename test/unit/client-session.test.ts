/**
 * One client connection (src/server/client-session.ts) over `duplexPair()` with hand-moved timers:
 * ordered replies, the outcome label of every kind of `? `, and the idle and slow-reader timeouts,
 * all without a socket or a sleep.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { duplexPair, type Duplex } from 'node:stream';
import { StoreUnavailableError } from '../../src/errors.js';
import { NOOP_OBSERVER, type ServerObserver } from '../../src/observability/observer.js';
import type { CommandKind, CommandOutcome } from '../../src/server/commands/outcomes.js';
import type { NearbySearchResponse } from '../../src/places/provider.js';
import { formatGoogleJson } from '../../src/protocol/google-json.js';
import { fixedWallClock } from '../../src/protocol/time.js';
import { formatWhatsatBody } from '../../src/protocol/commands.js';
import { createCommandContext } from '../../src/server/commands/context.js';
import { LocationStore } from '../../src/store/location-store.js';
import { ClientSession } from '../../src/server/client-session.js';
import { COMMANDS, type CommandContext } from '../../src/server/commands/index.js';
import type { CommandTable } from '../../src/server/commands/command.js';
import { ingest } from '../../src/server/ingest.js';
import { resolveServerLimits, type ServerLimits } from '../../src/server/limits.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { LogFile } from '../../src/observability/log-file.js';
import { capturingLogger, type LogEntry } from '../helpers/capture-log.js';
import { tempFolder } from '../helpers/temp-folder.js';
import { ManualTimers } from '../helpers/manual-timers.js';

/** The server's clock: 1700000010.5 s, so an IAMAT at 1700000000 is 10.5 s old. */
const CLOCK = fixedWallClock(1_700_000_010_500_000_000n);
const ZERO: NearbySearchResponse = { html_attributions: [], results: [], status: 'ZERO_RESULTS' };

interface Rig {
  /** The session's end of the pair. */
  readonly server: Duplex;
  /** The test's end. */
  readonly client: Duplex;
  readonly session: ClientSession;
  readonly timers: ManualTimers;
  readonly store: LocationStore;
  readonly outcomes: [CommandKind, CommandOutcome][];
  readonly log: ReturnType<typeof capturingLogger>;
  /** Everything the session wrote so far. */
  readonly received: () => string;
  /** Resolves when the test's end sees the session end or close the connection. */
  closed: Promise<void>;
}

function rig(
  options: {
    limits?: Partial<ServerLimits>;
    table?: CommandTable;
    read?: boolean;
    observer?: Partial<ServerObserver>;
    whenCommitted?: () => Promise<void>;
    /** @default a logger capturing its entries (`log`) */
    logger?: Logger;
  } = {},
): Rig {
  const [server, client] = duplexPair();
  const timers = new ManualTimers();
  const store = new LocationStore();
  const outcomes: [CommandKind, CommandOutcome][] = [];
  const log = capturingLogger();
  const context: CommandContext = createCommandContext({
    serverName: 'Solo',
    clock: CLOCK,
    maxFutureSkewMs: 60_000,
    maxLineBytes: resolveServerLimits(options.limits).maxLineBytes,
    store,
    ingest: (record) => ingest({ store, flood: () => undefined }, record),
    whenCommitted: options.whenCommitted,
    lookUpPlaces: async () => ({
      body: formatWhatsatBody(formatGoogleJson(ZERO)),
      places: { source: 'test', status: 'ZERO_RESULTS', results: 0, ms: 0 },
    }),
  });
  let text = '';
  if (options.read !== false) client.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const closed = new Promise<void>((resolve) => {
    client.once('end', () => resolve());
    client.once('close', () => resolve());
  });
  const session = new ClientSession({
    id: 1,
    remote: 'test',
    stream: server,
    context,
    limits: resolveServerLimits(options.limits),
    timers,
    logger: options.logger ?? log.logger,
    observer: { ...NOOP_OBSERVER, command: (kind, outcome) => outcomes.push([kind, outcome]), ...options.observer },
    table: options.table,
  });
  return { server, client, session, timers, store, outcomes, log, received: () => text, closed };
}

/** Lets the streams and the session's microtasks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ClientSession', () => {
  const logFolder = tempFolder('herd-client-session-');

  test('each kind of "? " is labelled by its handler, never guessed from the reply', async () => {
    const { client, outcomes, received, store } = rig({ limits: { maxClientIdBytes: 8 } });
    client.write(
      [
        'IAMAT kiwi +34.068930-118.445127 1700000000',
        'IAMAT kiwi +91+0 1700000000',
        'IAMAT kiwi +1+1 1800000000',
        'IAMAT waytoolong +1+1 1700000000',
        'WHATSAT waytoolong 10 5',
        'WHATSAT nobody 10 5',
        'HELLO Alford 1',
        'WHATSAT kiwi 10 5',
        '',
      ].join('\n') + '\n',
    );
    await settle();
    await settle();
    assert.deepEqual(outcomes, [
      ['IAMAT', 'ok'],
      ['INVALID', 'invalid'],
      ['IAMAT', 'clock_skew'],
      ['IAMAT', 'client_id_too_long'],
      ['WHATSAT', 'client_id_too_long'],
      ['WHATSAT', 'unknown_client'],
      ['INVALID', 'invalid'],
      ['WHATSAT', 'ok'],
    ]);
    const lines = received().split('\n');
    assert.equal(lines[0], 'AT Solo +10.500000000 kiwi +34.068930-118.445127 1700000000');
    assert.deepEqual(lines.slice(1, 6), [
      '? IAMAT kiwi +91+0 1700000000',
      '? IAMAT kiwi +1+1 1800000000',
      '? IAMAT waytoolong +1+1 1700000000',
      '? WHATSAT waytoolong 10 5',
      '? WHATSAT nobody 10 5',
    ]);
    assert.equal(store.size, 1);
  });

  test('each command is one log event with the line in, the reply out, its outcome and its look-up', async () => {
    const { client, log } = rig();
    client.write('IAMAT kiwi +34.068930-118.445127 1700000000\nWHATSAT kiwi 10 5\nbogus "line"\n');
    await settle();
    await settle();
    // Logged as each finishes: the WHATSAT, waiting on places, after the line behind it.
    const events = log.events().filter((entry) => entry.event === 'command');
    assert.deepEqual(
      events.map(({ msg, line, reply, outcome, reason, bytes, places }) => ({
        msg,
        line,
        reply,
        outcome,
        reason,
        bytes,
        places,
      })),
      [
        {
          msg: 'IAMAT',
          line: 'IAMAT kiwi +34.068930-118.445127 1700000000',
          reply: 'AT Solo +10.500000000 kiwi +34.068930-118.445127 1700000000',
          outcome: 'ok',
          reason: undefined,
          bytes: undefined,
          places: undefined,
        },
        {
          msg: 'INVALID',
          line: 'bogus "line"',
          reply: '? bogus "line"',
          outcome: 'invalid',
          reason: 'unknown command',
          bytes: undefined,
          places: undefined,
        },
        {
          msg: 'WHATSAT',
          line: 'WHATSAT kiwi 10 5',
          reply: 'AT Solo +10.500000000 kiwi +34.068930-118.445127 1700000000',
          outcome: 'ok',
          reason: undefined,
          bytes: 142,
          places: { source: 'test', status: 'ZERO_RESULTS', results: 0, ms: 0 },
        },
      ],
    );
    assert.ok(events.every((entry) => entry.level === 30 && typeof entry.time === 'number'));
  });

  test('an IAMAT of a non-ASCII client id logs its line and its reply as text, escaped as pino would', async () => {
    const { client, log } = rig();
    client.write('IAMAT k\u00e9a"1 +34.068930-118.445127 1700000000\n');
    await settle();
    const [event] = log.events().filter((entry) => entry.event === 'command');
    assert.equal(event?.line, 'IAMAT k\u00e9a"1 +34.068930-118.445127 1700000000');
    assert.equal(event?.reply, 'AT Solo +10.500000000 k\u00e9a"1 +34.068930-118.445127 1700000000');
    assert.equal(event?.outcome, 'ok');
  });

  test('into a log file (lines written in place, or as strings when not plain ASCII) the events are the same', async () => {
    const input =
      'IAMAT kiwi +34.068930-118.445127 1700000000\nWHATSAT kiwi 10 5\nbogus "line"\nIAMAT k\u00e9a +1+1 1700000000\nIAMAT \xfe\n';
    const captured = rig();
    captured.client.write(input, 'latin1');
    const file = path.join(logFolder.dir, 'Solo.log');
    const destination = new LogFile(file, { timers: new ManualTimers() });
    const filed = rig({ logger: pino({}, destination) });
    filed.client.write(input, 'latin1');
    for (let i = 0; i < 3; i++) await settle();
    destination.close();
    const withoutTime = ({ time: _time, ...entry }: LogEntry): LogEntry => entry;
    const written = readFileSync(file, 'utf8').trimEnd().split('\n');
    const expected = captured.log.events().map(withoutTime);
    assert.equal(expected.length, 5);
    assert.deepEqual(
      written.map((line) => withoutTime(JSON.parse(line) as LogEntry)),
      expected,
    );
  });

  test('replies with a body (WHATSAT) keep their order among the other replies, byte for byte', async () => {
    const { client, received } = rig();
    client.write(
      'IAMAT kiwi +34.068930-118.445127 1700000000\nWHATSAT kiwi 10 5\nbogus\nWHATSAT kiwi 10 5\nIAMAT kiwi +34.068930-118.445127 1700000000\n',
    );
    for (let i = 0; i < 4; i++) await settle();
    const at = 'AT Solo +10.500000000 kiwi +34.068930-118.445127 1700000000\n';
    const whatsat = `${at}${formatWhatsatBody(formatGoogleJson(ZERO)).toString('utf8')}`;
    assert.equal(received(), `${at}${whatsat}? bogus\n${whatsat}${at}`);
  });

  test('a line over maxLineBytes is labelled line_too_long, answered once, and the connection ends', async () => {
    const { client, outcomes, received, closed } = rig({ limits: { maxLineBytes: 3072 } });
    client.write(`IAMAT a +1+1 1700000000\n${'x'.repeat(5000)}`);
    await closed;
    assert.deepEqual(outcomes, [
      ['IAMAT', 'ok'],
      ['INVALID', 'line_too_long'],
    ]);
    assert.equal(received().split('\n')[1], `? ${'x'.repeat(3072)}`);
  });

  test('when recording the command fails too, the last-resort fallback still answers "? " and logs reply-failed', async () => {
    const table: CommandTable = { ...COMMANDS, WHATSAT: () => Promise.reject(new Error('boom')) };
    const observer: Partial<ServerObserver> = {
      command: (kind) => {
        if (kind === 'WHATSAT') throw new Error('observer broke');
      },
    };
    const { client, received, log } = rig({ table, observer });
    client.write('WHATSAT a 1 1\nIAMAT a +1+1 1700000000\n');
    await settle();
    await settle();
    const lines = received().split('\n');
    assert.equal(lines[0], '? WHATSAT a 1 1');
    assert.match(lines[1] ?? '', /^AT Solo /, 'the connection goes on, in order');
    assert.ok(log.events().some((entry) => entry.event === 'reply-failed' && /observer broke/.test(String(entry.err))));
  });

  test('with store.sync, an IAMAT whose commit fails gets no reply: earlier replies are written, then the connection closes', async () => {
    let commits = 0;
    const whenCommitted = (): Promise<void> =>
      ++commits === 2
        ? Promise.reject(new StoreUnavailableError('full', 'commit failed: SQLITE_FULL'))
        : Promise.resolve();
    const { client, outcomes, received, closed, log } = rig({ whenCommitted });
    client.write(
      'IAMAT a +1+1 1700000000\nWHATSAT a 10 1\nIAMAT b +2+2 1700000000\nWHATSAT a 10 1\nIAMAT c +3+3 1700000000\n',
    );
    await closed;
    const text = received();
    assert.match(text, /^AT Solo \+10\.500000000 a \+1\+1 1700000000\nAT Solo \S+ a \+1\+1 1700000000\n\{/);
    assert.doesNotMatch(text, / b | c /, 'nothing for the failed IAMAT or any line after it');
    assert.doesNotMatch(text, /^\? /m, 'a valid line never gets "? "');
    assert.deepEqual(outcomes.slice(0, 3), [
      ['IAMAT', 'ok'],
      ['WHATSAT', 'ok'],
      ['IAMAT', 'store_unavailable'],
    ]);
    const event = log.events().find((entry) => entry.outcome === 'store_unavailable');
    assert.match(String(event?.reason), /SQLITE_FULL/);
    assert.ok(!log.events().some((entry) => entry.event === 'reply-failed'));
  });

  test('a handler that fails is answered "? " and labelled error', async () => {
    const table: CommandTable = {
      ...COMMANDS,
      WHATSAT: () => Promise.reject(new Error('boom')),
    };
    const { client, outcomes, received, log } = rig({ table });
    client.write('IAMAT a +1+1 1700000000\nWHATSAT a 1 1\n');
    await settle();
    await settle();
    assert.deepEqual(outcomes, [
      ['IAMAT', 'ok'],
      ['WHATSAT', 'error'],
    ]);
    assert.equal(received().split('\n')[1], '? WHATSAT a 1 1');
    assert.ok(log.events().some((entry) => entry.event === 'command' && entry.outcome === 'error'));
  });

  test('an idle client is closed after idleTimeoutMs of silence; input re-arms the wait', async () => {
    const { client, timers, closed, log } = rig({ limits: { idleTimeoutMs: 1000 } });
    let ended = false;
    void closed.then(() => (ended = true));
    timers.advance(600);
    client.write('\n');
    await settle();
    timers.advance(600);
    await settle();
    assert.equal(ended, false, 'input 600 ms ago: not idle yet');
    timers.advance(399);
    await settle();
    assert.equal(ended, false);
    timers.advance(1);
    await closed;
    assert.ok(log.events().some((entry) => entry.event === 'idle-timeout'));
  });

  test('a client with a reply pending is not idle', async () => {
    let release: (response: NearbySearchResponse) => void = () => undefined;
    const table: CommandTable = {
      ...COMMANDS,
      WHATSAT: () => new Promise((resolve) => (release = () => resolve({ reply: 'late\n', outcome: 'ok' }))),
    };
    const { client, timers, closed, received } = rig({ limits: { idleTimeoutMs: 1000 }, table });
    let ended = false;
    void closed.then(() => (ended = true));
    let armed = 0;
    const setTimer = timers.setTimeout.bind(timers);
    timers.setTimeout = (callback, ms) => {
      armed++;
      return setTimer(callback, ms);
    };
    client.write('WHATSAT a 1 1\n');
    await settle();
    timers.advance(5000);
    await settle();
    assert.equal(ended, false, 'the reply is still due');
    assert.ok(armed <= 10, `the idle timer looks again once a period, not every millisecond (${armed} timers)`);
    release(ZERO);
    // The answer is queued once the places promise settles; its write goes out on the turn after.
    await settle();
    await settle();
    assert.equal(received(), 'late\n');
    timers.advance(1000);
    await closed;
  });

  test('a client that does not read is paused past maxPendingOutputBytes, then dropped after slowReaderTimeoutMs', async () => {
    const { server, client, timers, log } = rig({
      limits: { maxPendingOutputBytes: 1024, slowReaderTimeoutMs: 30_000 },
      read: false,
    });
    // Replies pile up unread: 1000 AT lines of about 60 bytes, past the reading side's own 16 KiB buffer.
    client.write('IAMAT reader +1+1 1700000000\n'.repeat(1000));
    await settle();
    await settle();
    assert.ok(log.events().some((entry) => entry.event === 'slow-reader-paused'));
    timers.advance(29_999);
    await settle();
    assert.equal(log.events().filter((entry) => entry.event === 'slow-reader-dropped').length, 0);
    assert.equal(server.destroyed, false);
    timers.advance(1);
    assert.ok(log.events().some((entry) => entry.event === 'slow-reader-dropped'));
    assert.equal(server.destroyed, true, 'the connection is cut');
    client.destroy();
  });
});
