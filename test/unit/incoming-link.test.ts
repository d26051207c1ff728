/**
 * The accepted side of a link (src/peers/incoming-link.ts) over `duplexPair()` with hand-moved
 * timers: the handshake deadline, refusals without a reply, floods only after authentication, and
 * the anti-entropy answer.
 */
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { checkWelcome, offerHello, parseGreeting, type LinkIdentity } from '../../src/peers/handshake.js';
import { IncomingLink } from '../../src/peers/incoming-link.js';
import { LocationStore } from '../../src/store/location-store.js';
import type { AtRecord } from '../../src/protocol/at-record.js';
import { ingest } from '../../src/server/ingest.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const SECRET = Buffer.from('correct horse battery staple 42');
const SOLO: LinkIdentity = { name: 'Solo', incarnation: 'solo-1', secret: SECRET };
const FRIEND: LinkIdentity = { name: 'Friend', incarnation: 'friend-1', secret: SECRET };
const HANDSHAKE_TIMEOUT_MS = 5000;

function rig(self: LinkIdentity = SOLO) {
  const [server, client] = duplexPair();
  const timers = new ManualTimers();
  const store = new LocationStore();
  const log = capturingLogger();
  const flooded: [string, string | undefined][] = [];
  const lines: string[] = [];
  let buffer = '';
  client.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n')) {
      lines.push(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
  let closedReason: string | undefined;
  let upCount = 0;
  const link = new IncomingLink({
    id: 7,
    remote: 'test',
    stream: server,
    self,
    isNeighbour: (name) => name === 'Friend',
    maxLineBytes: 4096,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    heartbeatIntervalMs: DEFAULT_LINK_SETTINGS.heartbeatIntervalMs,
    deadAfterMs: DEFAULT_LINK_SETTINGS.deadAfterMs,
    timers,
    logger: log.logger,
    observer: NOOP_OBSERVER,
    store,
    ingest: (update: AtRecord, from: string) =>
      ingest({ store, flood: (u, f) => flooded.push([u.clientId, f]) }, update, from),
    onUp: () => upCount++,
    onClose: (_link, reason) => (closedReason = reason),
  });
  return {
    server,
    client,
    timers,
    store,
    log,
    link,
    lines,
    flooded,
    closedReason: () => closedReason,
    ups: () => upCount,
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The dialler's side of the handshake, as Friend, through the product's own functions. */
async function authenticate(r: ReturnType<typeof rig>): Promise<void> {
  const offer = offerHello(FRIEND);
  r.client.write(offer.line);
  await settle();
  const verdict = checkWelcome(parseGreeting(r.lines[0] ?? ''), FRIEND, 'Solo', offer);
  assert.ok(verdict.ok && verdict.authLine !== undefined, JSON.stringify(verdict));
  r.client.write(verdict.authLine);
  await settle();
}

describe('IncomingLink', () => {
  test('a connection that sends no HELLO is closed after handshakeTimeoutMs, with no reply', async () => {
    const r = rig();
    r.timers.advance(HANDSHAKE_TIMEOUT_MS - 1);
    assert.equal(r.closedReason(), undefined);
    r.timers.advance(1);
    assert.equal(r.closedReason(), 'refused: no HELLO in time');
    assert.equal(r.server.destroyed, true);
    assert.deepEqual(r.lines, []);
  });

  test('a HELLO never followed by AUTH is closed after handshakeTimeoutMs', async () => {
    const r = rig();
    r.client.write(offerHello(FRIEND).line);
    await settle();
    assert.match(r.lines[0] ?? '', /^WELCOME Solo solo-1 [0-9a-f]{32} [0-9a-f]{64}$/);
    assert.equal(r.link.state, 'auth');
    r.timers.advance(HANDSHAKE_TIMEOUT_MS);
    assert.equal(r.closedReason(), 'refused: no AUTH in time');
    assert.equal(r.ups(), 0);
  });

  test('after the handshake, floods are ingested, tagged with the neighbour, and the deadline is off', async () => {
    const r = rig();
    await authenticate(r);
    assert.equal(r.link.state, 'up');
    assert.equal(r.ups(), 1);
    // The one timer left is the failure detector's (heartbeats and the dead line), not the handshake's.
    assert.equal(r.timers.pending, 1, 'no handshake deadline left');
    r.timers.advance(HANDSHAKE_TIMEOUT_MS - 1);
    assert.equal(r.closedReason(), undefined, 'no handshake deadline left');
    r.client.write('AT Friend +0.5 bad-difference +1+1 1700000000\nAT Friend +0.000000000 a +1+1 1700000000\n');
    r.client.write('AT Friend +0.000000000 a +1+1 1700000000\nSYNC x\n');
    await settle();
    assert.equal(r.store.get('a')?.atLine, 'AT Friend +0.000000000 a +1+1 1700000000');
    assert.deepEqual(r.flooded, [['a', 'Friend']], 'stored once, flooded on once, never back to Friend');
    const events = r.log.events().map((entry) => entry.event);
    assert.deepEqual(
      events.filter((event) => event?.startsWith('flood') || event === 'peer-line-malformed'),
      ['flood-malformed', 'flood-stored', 'flood-stale', 'peer-line-malformed'],
    );
  });

  test('client commands, or a flood before AUTH, are refused without a reply and change nothing', async () => {
    for (const first of ['IAMAT a +1+1 1700000000', 'AT Friend +0.000000000 a +1+1 1700000000', 'WHATSAT a 1 1']) {
      const r = rig();
      r.client.write(`${first}\n`);
      await settle();
      assert.equal(r.closedReason(), 'refused: first line is not a HELLO', first);
      assert.deepEqual(r.lines, []);
      assert.equal(r.store.size, 0);
    }
    const early = rig();
    early.client.write(offerHello(FRIEND).line);
    early.client.write('AT Friend +0.000000000 a +1+1 1700000000\n');
    await settle();
    assert.equal(early.closedReason(), 'refused: no AUTH');
    assert.equal(early.store.size, 0);
  });

  test('a HELLO from a server that is not a neighbour is refused', async () => {
    const r = rig();
    r.client.write(offerHello({ ...FRIEND, name: 'Mallory' }).line);
    await settle();
    assert.equal(r.closedReason(), 'refused: not a neighbour');
    assert.deepEqual(r.lines, []);
    const refused = r.log.events().find((entry) => entry.event === 'peer-rejected');
    assert.equal(refused?.peer, 'Mallory');
  });

  test('answers an anti-entropy offer with the buckets it lacks', async () => {
    const r = rig({ ...SOLO, secret: undefined });
    r.client.write(offerHello({ ...FRIEND, secret: undefined }).line);
    await settle();
    assert.equal(r.link.state, 'up');
    // One bucket whose sum differs from the (empty) table here: it is wanted.
    r.client.write('SYNC 3 1\nSUMS 3 0 00000000000000ff\nSUMS-END 3\n');
    await settle();
    assert.deepEqual(r.lines.slice(1), ['WANT 3 0', 'WANT-END 3']);
  });
});
