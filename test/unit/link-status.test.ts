/**
 * Both link kinds keep their state with one writer (src/peers/link-status.ts) that logs each
 * transition once as `link-status` (`from`, `to`, `peer`, `link`: `out` or `in`), with hand-moved
 * timers: the writer alone, the accepted side's life over `duplexPair()` (with and without a herd
 * secret, the handshake deadline, the failure detector, several ends at once), and both sides of
 * one link over loopback.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { duplexPair } from 'node:stream';
import { checkWelcome, offerHello, parseGreeting, type LinkIdentity } from '../../src/peers/handshake.js';
import type { IncomingLink } from '../../src/peers/incoming-link.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { LinkStatus } from '../../src/peers/link-status.js';
import { capturingLogger, type LogEntry } from '../helpers/capture-log.js';
import { waitUntil } from '../helpers/herd-process.js';
import { FRIEND, SOLO, accepter, dialler } from '../helpers/link-fixtures.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const SECRET = Buffer.from('correct horse battery staple 42');

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The `link-status` lines of a log, as `from->to`. */
function transitions(events: readonly LogEntry[]): string[] {
  return statusLines(events).map((entry) => `${entry.from as string}->${entry.to as string}`);
}

function statusLines(events: readonly LogEntry[]): LogEntry[] {
  return events.filter((entry) => entry.event === 'link-status');
}

/** Solo's accepted side over `duplexPair()`, and the lines it writes back to the dialler. */
function acceptedRig(self: LinkIdentity = SOLO) {
  const [server, client] = duplexPair();
  const timers = new ManualTimers();
  const received: string[] = [];
  client.on('data', (chunk: Buffer) => received.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const ups: IncomingLink[] = [];
  const { link, log } = accepter(timers, server, { self, id: 7, remote: '10.0.0.2:40000', onUp: (up) => ups.push(up) });
  return { server, client, timers, received, link, log, ups };
}

describe('LinkStatus, the one writer', () => {
  test('logs each change once with from, to, its details and the late fields; a repeat is no change', () => {
    const log = capturingLogger();
    let peer: string | undefined = undefined;
    const seen: string[] = [];
    const status = new LinkStatus<'a' | 'b'>({
      initial: 'a',
      log: log.logger.child({ link: 'in' }),
      title: () => `link from ${peer ?? 'somewhere'}`,
      fields: () => ({ peer }),
      onChange: (state) => seen.push(state),
    });
    status.set('a', { reason: 'no change' });
    assert.deepEqual(log.events(), [], 'staying in a state logs nothing');
    peer = 'Ball';
    status.set('b', { reason: 'why' });
    status.set('b');
    assert.equal(status.value, 'b');
    assert.deepEqual(seen, ['b']);
    const [line, ...rest] = log.events();
    assert.deepEqual(rest, []);
    assert.equal(line?.msg, 'link from Ball: a -> b');
    assert.deepEqual(
      { event: line?.event, link: line?.link, peer: line?.peer, from: line?.from, to: line?.to, reason: line?.reason },
      { event: 'link-status', link: 'in', peer: 'Ball', from: 'a', to: 'b', reason: 'why' },
    );
  });
});

describe('the accepted side of a link: its transitions', () => {
  test('with a herd secret: hello -> auth -> up, then closed by the failure detector, each logged once', async () => {
    const friend = { ...FRIEND, secret: SECRET };
    const r = acceptedRig({ ...SOLO, secret: SECRET });
    const offer = offerHello(friend);
    r.client.write(offer.line);
    await settle();
    assert.equal(r.link.state, 'auth');
    const verdict = checkWelcome(parseGreeting(r.received[0] ?? ''), friend, 'Solo', offer);
    assert.ok(verdict.ok && verdict.authLine !== undefined, JSON.stringify(verdict));
    r.client.write(verdict.authLine);
    await settle();
    assert.equal(r.link.state, 'up');
    assert.equal(r.ups.length, 1);
    r.timers.advance(DEFAULT_LINK_SETTINGS.deadAfterMs);
    await settle();
    assert.equal(r.link.state, 'closed');
    const lines = statusLines(r.log.events());
    assert.deepEqual(transitions(lines), ['hello->auth', 'auth->up', 'up->closed']);
    for (const line of lines) {
      assert.equal(line.peer, 'Friend', JSON.stringify(line));
      assert.equal(line.link, 'in');
      assert.equal(line.conn, 7);
      assert.equal(line.remote, '10.0.0.2:40000');
      assert.equal(line.level, 30, 'info');
    }
    assert.equal(lines[1]?.incarnation, 'friend-1');
    assert.equal(lines[1]?.msg, 'link from Friend: auth -> up');
    assert.equal(lines[2]?.reason, `no data for ${DEFAULT_LINK_SETTINGS.deadAfterMs} ms`);
  });

  test('without a secret: hello -> up at the HELLO; the neighbour ending it, destroy and the stream closing make one closed', async () => {
    const r = acceptedRig();
    r.client.write(offerHello(FRIEND).line);
    await settle();
    assert.equal(r.link.state, 'up');
    r.client.end();
    await settle();
    r.link.destroy('again');
    await settle();
    await settle();
    const lines = statusLines(r.log.events());
    assert.deepEqual(transitions(lines), ['hello->up', 'up->closed']);
    assert.equal(lines[1]?.reason, 'ended');
    assert.equal(r.server.destroyed, true);
  });

  test('no HELLO: hello -> closed at the handshake deadline, logged without a peer', async () => {
    const r = acceptedRig();
    r.timers.advance(DEFAULT_LINK_SETTINGS.handshakeTimeoutMs - 1);
    assert.deepEqual(transitions(r.log.events()), []);
    r.timers.advance(1);
    const lines = statusLines(r.log.events());
    assert.deepEqual(transitions(lines), ['hello->closed']);
    assert.equal(lines[0]?.reason, 'refused: no HELLO in time');
    assert.equal(lines[0]?.msg, 'link from 10.0.0.2:40000: hello -> closed');
    assert.ok(!('peer' in (lines[0] ?? {})), JSON.stringify(lines[0]));
    // The refusal's own line comes first, as before.
    assert.deepEqual(
      r.log.events().map((entry) => entry.event),
      ['peer-rejected', 'link-status'],
    );
  });

  test('a HELLO from a stranger: hello -> closed, naming who it claimed to be', async () => {
    const r = acceptedRig();
    r.client.write(offerHello({ ...FRIEND, name: 'Mallory' }).line);
    await settle();
    const lines = statusLines(r.log.events());
    assert.deepEqual(transitions(lines), ['hello->closed']);
    assert.equal(lines[0]?.peer, 'Mallory');
    assert.equal(lines[0]?.reason, 'refused: not a neighbour');
  });
});

describe('both sides of one link over loopback', () => {
  test('log the same fields: the dialler idle -> connecting -> greeting -> up -> closed, the accepted side hello -> up -> closed', async () => {
    const timers = new ManualTimers();
    const accepted: ReturnType<typeof accepter>[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      accepted.push(accepter(timers, socket, { self: FRIEND, isNeighbour: (name) => name === 'Solo' }));
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { link, log } = dialler(timers);
    try {
      link.setAddress({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
      await waitUntil(() => link.status === 'up' && accepted[0]?.link.state === 'up', 5000, 'both sides up');
      await link.close();
      await waitUntil(() => accepted[0]?.link.state === 'closed', 5000, 'the accepted side closed');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const out = statusLines(log.events());
    const inbound = statusLines(accepted[0]?.log.events() ?? []);
    assert.deepEqual(transitions(out), ['idle->connecting', 'connecting->greeting', 'greeting->up', 'up->closed']);
    assert.deepEqual(transitions(inbound), ['hello->up', 'up->closed']);
    assert.deepEqual(
      out.map((entry) => [entry.peer, entry.link]),
      out.map(() => ['Friend', 'out']),
    );
    assert.deepEqual(
      inbound.map((entry) => [entry.peer, entry.link]),
      inbound.map(() => ['Solo', 'in']),
    );
    // The up line names the neighbour's incarnation on both sides.
    assert.equal(out[2]?.incarnation, 'friend-1');
    assert.equal(inbound[0]?.incarnation, 'solo-1');
    assert.equal(inbound[1]?.reason, 'ended');
    assert.equal(accepted.length, 1, 'one connection');
  });
});
