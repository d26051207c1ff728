/**
 * Links read in slices (src/core/read-slices.ts): a neighbour's backlog of many thousand floods is
 * applied in order across several slices while the server still writes its heartbeats in between,
 * and a client's question that reaches the server after a flood (stuck behind the paused link) is
 * answered with that flood applied: the client's chunk is held until the link has caught up. A link
 * behind for longer than the hold bound (MAX_CLIENT_HOLD_MS; an overload) holds the client no longer,
 * and /metrics counts the pauses and the bound reached (whether that client's chunk was held first
 * depends on when it arrives: the held count is checked where the client is held).
 *
 * Which side of the hold bound a client falls on must not depend on the machine's load: the test that
 * the client is held sets the bound far above any catch-up ({@link NEVER_SPENT_MS}), and the overload
 * test far below its backlog's cost ({@link OVERLOAD_BOUND_MS}), on the process's READ_SLICES.
 *
 * The test is the neighbour "Friend": it dials Solo's peer port on a plain socket, greets, and writes
 * AT lines as a neighbour would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { MAX_CLIENT_HOLD_MS, READ_SLICES } from '../../src/core/read-slices.js';
import { AdminServer } from '../../src/observability/admin-server.js';
import { MetricsObserver } from '../../src/observability/metrics.js';
import { NOOP_OBSERVER, composeObservers, type ServerObserver } from '../../src/observability/observer.js';
import { formatHello } from '../../src/peers/handshake.js';
import type { HerdServer, HerdServerOptions } from '../../src/server/herd-server.js';
import { withServer } from '../helpers/one-server.js';
import { exchange } from '../helpers/server-exchange.js';
import { findSample, parsePrometheusText } from '../helpers/prometheus-text.js';

/** Floods in the backlog. */
const BACKLOG = 20_000;
/** Heartbeats while idle this often, ms: one is due many times over while the backlog is read. */
const HEARTBEAT_MS = 20;
/** Each stored record costs at least this much, ms, so that one chunk spends the slice on any machine. */
const COST_PER_RECORD_MS = 0.02;
/** A hold bound no catch-up of the backlog reaches, however loaded the machine, ms (the tests' timeout). */
const NEVER_SPENT_MS = 120_000;
/** The overload test's hold bound, ms: a tenth of what its backlog costs at the least. */
const OVERLOAD_BOUND_MS = 200;

function floodLine(clientId: string, location: string, seconds: number): string {
  return `AT Friend +0.000000001 ${clientId} ${location} ${seconds}.000000000\n`;
}

/** Solo's peer socket, greeted as Friend; `lines` grows with what Solo writes (WELCOME, heartbeats). */
async function dialAsFriend(peerPort: number): Promise<{ socket: net.Socket; lines: string[] }> {
  const socket = net.connect({ host: '127.0.0.1', port: peerPort });
  socket.on('error', () => undefined);
  const lines: string[] = [];
  let buffered = '';
  let welcomed: () => void = () => undefined;
  const welcome = new Promise<void>((resolve) => (welcomed = resolve));
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    buffered += text;
    for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      lines.push(line);
      if (line.startsWith('WELCOME ')) welcomed();
      socket.emit('line', line);
    }
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(formatHello('Friend', 'friend-1'));
  await welcome;
  return { socket, lines };
}

/** Resolves once `ready()` holds, checked after every event-loop turn. */
async function turnsUntil(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

/** An observer (`base` and more) that records the client id of every stored record and makes each cost `costMs`. */
function recordingObserver(stored: string[], costMs = COST_PER_RECORD_MS, base: ServerObserver = NOOP_OBSERVER) {
  return composeObservers(base, {
    stored: (record) => {
      stored.push(record.clientId);
      const until = performance.now() + costMs;
      while (performance.now() < until) {
        // Work per record.
      }
    },
  });
}

/** How {@link withSolo} sets Solo up. */
interface SoloSetup {
  /** READ_SLICES' hold bound for the test, ms (the default is put back after it). @default MAX_CLIENT_HOLD_MS */
  readonly holdBoundMs?: number;
  /** What each stored record costs, ms. @default COST_PER_RECORD_MS */
  readonly costMs?: number;
  /** An observer beside the recording one. */
  readonly base?: ServerObserver;
  readonly links?: HerdServerOptions['links'];
}

/**
 * Runs `body` with Solo, whose neighbour is Friend (not dialled yet) and whose stored client ids are
 * recorded in `stored`, in order; READ_SLICES' hold bound is `setup.holdBoundMs` meanwhile.
 */
async function withSolo(
  setup: SoloSetup,
  body: (server: HerdServer, ports: { port: number; peerPort: number }, stored: string[]) => Promise<void>,
): Promise<void> {
  const stored: string[] = [];
  READ_SLICES.maxClientHoldMs = setup.holdBoundMs ?? MAX_CLIENT_HOLD_MS;
  try {
    await withServer(
      {
        neighbours: ['Friend'],
        observer: recordingObserver(stored, setup.costMs, setup.base),
        ...(setup.links === undefined ? {} : { links: setup.links }),
      },
      (server, port, peerPort) => body(server, { port, peerPort }, stored),
    );
  } finally {
    READ_SLICES.maxClientHoldMs = MAX_CLIENT_HOLD_MS;
  }
}

const seconds = Math.floor(Date.now() / 1000);
const backlogIds = Array.from({ length: BACKLOG }, (_, i) => `backlog-${i}`);
const backlogText = backlogIds.map((id) => floodLine(id, '+1+1', seconds)).join('');

/**
 * Dials Solo as Friend and hands the kernel the backlog, then the flood that moves client `mover`, all
 * before a client asks; resolves once the link is paused by a spent slice with the backlog (and the
 * mover's flood) still unread, `stored` being what Solo has stored so far.
 */
async function backlogThenMover(
  peerPort: number,
  stored: readonly string[],
): Promise<{ friend: { socket: net.Socket; lines: string[] }; moved: string }> {
  const friend = await dialAsFriend(peerPort);
  const moved = floodLine('mover', '+20+20', seconds + 1);
  await new Promise<void>((resolve, reject) =>
    friend.socket.write(backlogText + moved, (error) => (error ? reject(error) : resolve())),
  );
  await turnsUntil(() => READ_SLICES.linksBehind > 0 || stored.length > BACKLOG);
  assert.ok(READ_SLICES.linksBehind > 0, 'the link was paused by a spent slice');
  return { friend, moved };
}

test(
  'a backlog of floods on a link is applied in order over several slices, with heartbeats written in between',
  { timeout: 120_000 },
  async () => {
    const links = { heartbeatIntervalMs: HEARTBEAT_MS, deadAfterMs: 60_000 };
    await withSolo({ links }, async (server, { peerPort }, stored) => {
      const friend = await dialAsFriend(peerPort);
      const pausesBefore = READ_SLICES.pauses;
      // A heartbeat that arrives while part of the backlog is applied and part is not: the loop ran
      // Solo's timers and wrote between two slices of the backlog.
      let heartbeatsBetween = 0;
      friend.socket.on('line', (line: string) => {
        if (line === 'HEARTBEAT' && stored.length > 0 && stored.length < BACKLOG) heartbeatsBetween++;
      });
      friend.socket.write(backlogText);
      await turnsUntil(() => stored.length === BACKLOG);
      assert.deepEqual(stored, backlogIds, 'every flood applied, in the order it was sent');
      assert.ok(
        READ_SLICES.pauses > pausesBefore + 1,
        `the link was paused for several turns (${READ_SLICES.pauses - pausesBefore})`,
      );
      assert.ok(heartbeatsBetween > 0, 'a heartbeat went out while the backlog was read');
      assert.equal(
        server.store.get(`backlog-${BACKLOG - 1}`)?.atLine,
        floodLine(`backlog-${BACKLOG - 1}`, '+1+1', seconds).trimEnd(),
      );
      friend.socket.destroy();
    });
  },
);

test(
  "a client's WHATSAT that reaches the server after a flood stuck behind a paused link finds it",
  { timeout: 120_000 },
  async () => {
    await withSolo({ holdBoundMs: NEVER_SPENT_MS }, async (_server, { port, peerPort }, stored) => {
      const holdsBefore = READ_SLICES.holds;
      const { friend, moved } = await backlogThenMover(peerPort, stored);
      assert.ok(stored.length < BACKLOG / 2, `the backlog is far from done (${stored.length} of ${BACKLOG})`);
      const answer = await exchange(port, 'WHATSAT mover 10 1\n');
      assert.equal(answer.split('\n')[0], moved.trimEnd());
      assert.ok(READ_SLICES.holds > holdsBefore, "the client's chunk was held until the link caught up");
      assert.equal(stored.at(-1), 'mover');
      friend.socket.destroy();
    });
  },
);

test(
  'a link behind for longer than the hold bound holds a client no more; /metrics counts it',
  { timeout: 120_000 },
  async () => {
    // The backlog costs ten times the bound to apply, on any machine: an overload.
    const costMs = (10 * OVERLOAD_BOUND_MS) / BACKLOG;
    const metrics = new MetricsObserver({ serverName: 'Solo' });
    await withSolo(
      { holdBoundMs: OVERLOAD_BOUND_MS, costMs, base: metrics },
      async (server, { port, peerPort }, stored) => {
        metrics.attach(server);
        const admin = new AdminServer({ status: () => server.status(), metrics });
        await admin.listen();
        const scrape = async (): Promise<[number, number, number]> => {
          const samples = parsePrometheusText(await (await fetch(`${admin.url}/metrics`)).text());
          return [
            findSample(samples, 'herd_read_slice_pauses_total', { kind: 'peer' }) ?? NaN,
            findSample(samples, 'herd_read_slice_pauses_total', { kind: 'client' }) ?? NaN,
            findSample(samples, 'herd_read_hold_bound_reached_total') ?? NaN,
          ];
        };
        try {
          const [peerPauses, clientPauses, bounds] = await scrape();
          const { friend } = await backlogThenMover(peerPort, stored);
          const answer = await exchange(port, 'WHATSAT mover 10 1\n');
          assert.ok(
            stored.length < BACKLOG,
            `answered before the backlog was applied (${stored.length} of ${BACKLOG})`,
          );
          assert.equal(
            answer.split('\n')[0],
            '? WHATSAT mover 10 1',
            'the order rule gave way: the flood is not in yet',
          );
          await turnsUntil(() => stored.length === BACKLOG + 1);
          const [peerPausesAfter, clientPausesAfter, boundsAfter] = await scrape();
          assert.ok(
            peerPausesAfter > peerPauses + 1,
            `the link paused in many turns (${peerPausesAfter - peerPauses})`,
          );
          assert.equal(clientPausesAfter, clientPauses, 'no client read a big chunk');
          assert.equal(boundsAfter, bounds + 1, 'the bound was reached once');
          friend.socket.destroy();
        } finally {
          await admin.close();
          metrics.close();
        }
      },
    );
  },
);
