/**
 * The failure detector wired into both sides of a link (issue 12), with hand-moved timers: the
 * accepted side over `duplexPair()`, the dialling side against a fake neighbour on loopback that
 * greets and then goes silent. Heartbeats go out when idle, are taken without a log line, and a
 * silent connection is closed after `deadAfterMs` with its reason logged and counted.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { HEARTBEAT_TEXT } from '../../src/peers/failure-detector.js';
import { offerHello } from '../../src/peers/handshake.js';
import { IncomingLink } from '../../src/peers/incoming-link.js';
import { LocationStore } from '../../src/store/location-store.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { waitUntil } from '../helpers/herd-process.js';
import { FRIEND, SOLO, dialler, fakeNeighbour } from '../helpers/link-fixtures.js';

const HEARTBEAT_MS = 1000;
const DEAD_AFTER_MS = 5000;

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function incomingRig() {
  const [server, client] = duplexPair();
  const timers = new ManualTimers();
  const log = capturingLogger();
  let received = '';
  client.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  let closedReason: string | undefined;
  const link = new IncomingLink({
    id: 1,
    remote: 'test',
    stream: server,
    self: SOLO,
    isNeighbour: (name) => name === 'Friend',
    maxLineBytes: 4096,
    handshakeTimeoutMs: 5000,
    heartbeatIntervalMs: HEARTBEAT_MS,
    deadAfterMs: DEAD_AFTER_MS,
    timers,
    logger: log.logger,
    observer: NOOP_OBSERVER,
    store: new LocationStore(),
    ingest: () => false,
    onClose: (_link, reason) => (closedReason = reason),
  });
  return { client, timers, log, link, received: () => received, closedReason: () => closedReason };
}

describe('link liveness: the accepted side', () => {
  test('writes a heartbeat when idle, takes the neighbour’s without a log line, and closes a silent link', async () => {
    const r = incomingRig();
    r.client.write(offerHello(FRIEND).line);
    await settle();
    assert.equal(r.link.state, 'up');
    const welcome = r.received();
    r.timers.advance(HEARTBEAT_MS);
    await settle();
    assert.equal(r.received().slice(welcome.length), HEARTBEAT_TEXT);
    // The neighbour's heartbeats keep the link alive and are not "malformed".
    for (let i = 0; i < 8; i++) {
      r.client.write(HEARTBEAT_TEXT);
      await settle();
      r.timers.advance(HEARTBEAT_MS);
      await settle();
    }
    assert.equal(r.closedReason(), undefined);
    const logged = r.log.events().map((entry) => entry.event);
    assert.ok(!logged.includes('peer-line-malformed'), JSON.stringify(logged));
    // Then silence: closed at deadAfterMs after the last byte, after the I/O phase had its look.
    r.timers.advance(DEAD_AFTER_MS - HEARTBEAT_MS - 1);
    await settle();
    assert.equal(r.closedReason(), undefined);
    r.timers.advance(1);
    await settle();
    assert.equal(r.closedReason(), `no data for ${DEAD_AFTER_MS} ms`);
    assert.equal(r.link.timedOut, true);
    const timeout = r.log.events().find((entry) => entry.event === 'link-timeout');
    assert.equal(timeout?.peer, 'Friend');
    assert.equal(timeout?.link, 'in');
    assert.equal(timeout?.silentMs, DEAD_AFTER_MS);
    assert.equal(r.timers.pending, 0, 'nothing left running');
  });

  test('a link closed by its neighbour is not a timeout', async () => {
    const r = incomingRig();
    r.client.write(offerHello(FRIEND).line);
    await settle();
    r.client.end();
    await settle();
    await settle();
    assert.equal(r.closedReason(), 'ended');
    assert.equal(r.link.timedOut, false);
    assert.equal(r.timers.pending, 0);
  });
});

describe('link liveness: the dialling side', () => {
  test('a neighbour that goes silent is declared down after deadAfterMs, logged with the reason, and re-dialled', async () => {
    const neighbour = await fakeNeighbour();
    const timers = new ManualTimers();
    const { link, log, statuses } = dialler(timers, {
      heartbeatIntervalMs: HEARTBEAT_MS,
      deadAfterMs: DEAD_AFTER_MS,
    });
    try {
      link.setAddress(neighbour.address);
      await waitUntil(() => link.status === 'up', 5000, 'the link up');
      assert.equal(link.status, 'up');
      // Idle: a heartbeat each interval, and the queue still flows.
      timers.advance(HEARTBEAT_MS);
      link.send('AT Solo +0.000000000 a +1+1 1700000000');
      await waitUntil(() => neighbour.received().includes('AT Solo'), 5000, 'the neighbour to receive the AT line');
      assert.match(neighbour.received(), /\nHEARTBEAT\n(.|\n)*AT Solo /);
      // Nothing ever comes back after the WELCOME: down at deadAfterMs.
      timers.advance(DEAD_AFTER_MS - HEARTBEAT_MS - 1);
      await settle();
      assert.equal(link.status, 'up');
      timers.advance(1);
      await waitUntil(() => link.status !== 'up', 5000, 'the link down');
      assert.equal(link.status, 'backoff');
      assert.equal(link.timeouts, 1);
      const down = log.events().find((entry) => entry.event === 'link-status' && entry.to === 'backoff');
      assert.equal(down?.from, 'up');
      assert.equal(down?.reason, `no data for ${DEAD_AFTER_MS} ms`);
      assert.equal(log.events().filter((entry) => entry.event === 'link-timeout').length, 1);
      // Updates sent while down stay queued; the backoff re-dials.
      link.send('AT Solo +0.000000000 b +1+1 1700000000');
      assert.equal(link.queuedUpdates, 1);
      timers.advance(100);
      await waitUntil(() => link.status === 'up', 5000, 'the link up');
      assert.equal(link.status, 'up');
      assert.equal(link.connects, 2);
      assert.deepEqual(statuses.slice(0, 3), ['connecting', 'greeting', 'up']);
    } finally {
      await link.close();
      await neighbour.close();
    }
  });
});
