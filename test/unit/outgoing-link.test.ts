/**
 * The dialling side of a link at its bounds (src/peers/outgoing-link.ts), against a fake neighbour on
 * loopback, with hand-moved timers: a dial stuck in `connecting` made again when the network heals
 * or at its connect deadline,
 * a queue longer than MAX_LINES_PER_WRITE written in several writes, in order, the first line of a
 * turn written at once and the rest of the turn in one write after it, a line longer than the
 * reused read buffer read whole, and a close that waits
 * at most LINK_CLOSE_TIMEOUT_MS for a neighbour that never ends its side.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { LINK_CLOSE_TIMEOUT_MS, MAX_LINES_PER_WRITE, type PeerAddress } from '../../src/peers/outgoing-link.js';
import type { SyncMessage } from '../../src/peers/anti-entropy-messages.js';
import { answerHello, parseGreeting } from '../../src/peers/handshake.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { waitUntil } from '../helpers/herd-process.js';
import { dialler, fakeNeighbour, FRIEND } from '../helpers/link-fixtures.js';
import { ManualTimers } from '../helpers/manual-timers.js';

/**
 * A `connect` whose first dial goes nowhere (a socket that never connects, as SYNs lost in a cut or
 * silent network) and whose next dials reach the neighbour; `dials` lists every socket it made.
 */
function firstDialLost(): { dials: net.Socket[]; connect: (address: PeerAddress) => net.Socket } {
  const dials: net.Socket[] = [];
  const connect = (address: PeerAddress): net.Socket => {
    const socket = dials.length === 0 ? new net.Socket() : net.connect(address);
    dials.push(socket);
    return socket;
  };
  return { dials, connect };
}

describe('the dialling side of a link', () => {
  test('a dial stuck in connecting is made again at once when the network heals (redialNow), not after the handshake deadline', async () => {
    const friend = await fakeNeighbour();
    const timers = new ManualTimers();
    const { dials, connect } = firstDialLost();
    const { link: outgoing, log, statuses } = dialler(timers, { connect });
    try {
      outgoing.setAddress(friend.address);
      assert.equal(outgoing.status, 'connecting');
      outgoing.redialNow();
      await waitUntil(() => outgoing.status === 'up', 5000, 'the link up');
      assert.equal(dials.length, 2);
      assert.ok(dials[0]?.destroyed, 'the stuck dial is abandoned');
      assert.deepEqual(statuses, ['connecting', 'greeting', 'up'], 'no backoff in between');
      assert.ok(log.events().some((entry) => entry.event === 'link-redial'));
    } finally {
      await outgoing.close();
      await friend.close();
    }
  });

  test('a dial not connected within connectTimeoutMs is abandoned and made again after the backoff; a connected one is kept', async () => {
    const friend = await fakeNeighbour();
    const timers = new ManualTimers();
    const { dials, connect } = firstDialLost();
    const { connectTimeoutMs } = DEFAULT_LINK_SETTINGS;
    const { link: outgoing, log, statuses } = dialler(timers, { connect });
    try {
      outgoing.setAddress(friend.address);
      timers.advance(connectTimeoutMs - 1);
      await turn();
      assert.equal(dials[0]?.destroyed, false, 'kept until its deadline');
      timers.advance(1);
      await turn();
      assert.ok(dials[0]?.destroyed, 'abandoned at its deadline, once the I/O of that turn is seen');
      await waitUntil(() => outgoing.status === 'backoff', 5000, 'the backoff');
      timers.advance(100);
      await waitUntil(() => outgoing.status === 'up', 5000, 'the link up');
      timers.advance(connectTimeoutMs * 2);
      await turn();
      assert.equal(dials[1]?.destroyed, false, 'a connected dial outlives the deadline');
      assert.deepEqual(statuses, ['connecting', 'backoff', 'connecting', 'greeting', 'up']);
      const timeouts = log.events().filter((entry) => entry.event === 'connect-timeout');
      assert.equal(timeouts.length, 1);
      const backoff = log.events().find((entry) => entry.event === 'link-status' && entry.to === 'backoff');
      assert.equal(backoff?.reason, `not connected in ${connectTimeoutMs} ms`);
    } finally {
      const closed = outgoing.close();
      timers.advance(LINK_CLOSE_TIMEOUT_MS);
      await closed;
      await friend.close();
    }
  });

  test('a connection the kernel made while the loop was blocked past the connect deadline is taken, not cut', async () => {
    const friend = await fakeNeighbour();
    const timers = new ManualTimers();
    const { link: outgoing, log, statuses } = dialler(timers);
    try {
      outgoing.setAddress(friend.address);
      // The deadline falls due in the very turn of the dial, before the loop has seen the connection:
      // as after a start that held the loop for longer than the deadline.
      timers.advance(DEFAULT_LINK_SETTINGS.connectTimeoutMs);
      await waitUntil(() => outgoing.status === 'up', 5000, 'the link up');
      assert.deepEqual(statuses, ['connecting', 'greeting', 'up']);
      assert.equal(log.events().filter((entry) => entry.event === 'connect-timeout').length, 0);
    } finally {
      await outgoing.close();
      await friend.close();
    }
  });

  test(`more than MAX_LINES_PER_WRITE (${MAX_LINES_PER_WRITE}) queued lines go out in several writes, every line once, in order`, async () => {
    const friend = await fakeNeighbour();
    const writes: number[] = [];
    const { link: outgoing } = dialler(new ManualTimers(), { onSent: (n) => writes.push(n) });
    const total = MAX_LINES_PER_WRITE * 2 + 5;
    try {
      // Queued while the link is not up yet, then flushed once it is.
      for (let i = 0; i < total; i++) outgoing.send(`AT Solo +0.000000000 many-${i} +1+1 1700000000`);
      outgoing.setAddress(friend.address);
      await waitUntil(() => friend.lines.length === total, 10_000, 'every line at the neighbour');
      assert.deepEqual(
        friend.lines.map((line) => line.split(' ')[3]),
        Array.from({ length: total }, (_, i) => `many-${i}`),
      );
      assert.ok(writes.length >= 3, `${writes.length} writes`);
      assert.ok(Math.max(...writes) <= MAX_LINES_PER_WRITE, `writes of ${writes.join(', ')} lines`);
      assert.equal(outgoing.queuedUpdates, 0);
    } finally {
      await outgoing.close();
      await friend.close();
    }
  });

  test('the first line of a turn is written at once; the lines after it in the same turn go out together after its I/O', async () => {
    const friend = await fakeNeighbour();
    const writes: number[] = [];
    const { link: outgoing } = dialler(new ManualTimers(), { onSent: (n) => writes.push(n) });
    try {
      outgoing.setAddress(friend.address);
      await waitUntil(() => outgoing.status === 'up', 5000, 'the link up');
      await new Promise((resolve) => setImmediate(resolve));
      writes.length = 0;
      outgoing.send('AT Solo +0.000000000 first +1+1 1700000000');
      assert.deepEqual(writes, [1], 'written within send(), no batch delay');
      assert.equal(outgoing.queuedUpdates, 0);
      outgoing.send('AT Solo +0.000000000 second +1+1 1700000000');
      outgoing.send('AT Solo +0.000000000 third +1+1 1700000000');
      assert.deepEqual(writes, [1], 'the rest of the turn waits');
      assert.equal(outgoing.queuedUpdates, 2);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(writes, [1, 2], 'one write for the rest of the turn');
      // A later turn's first line is written at once again.
      outgoing.send('AT Solo +0.000000000 fourth +1+1 1700000000');
      assert.deepEqual(writes, [1, 2, 1]);
      await waitUntil(() => friend.lines.length === 4, 5000, 'every line at the neighbour');
      assert.deepEqual(
        friend.lines.map((line) => line.split(' ')[3]),
        ['first', 'second', 'third', 'fourth'],
      );
    } finally {
      await outgoing.close();
      await friend.close();
    }
  });

  test('a line longer than the read buffer, in many reads into the one reused buffer, arrives whole, and the lines after it too', async () => {
    const sockets = new Set<net.Socket>();
    // A neighbour that greets, then answers with a WANT of 300 buckets (about 1.2 KB) and WANT-END.
    const buckets = Array.from({ length: 300 }, (_, i) => i);
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('data', (chunk: Buffer) => {
        const answer = answerHello(parseGreeting(chunk.toString('latin1').trimEnd()), FRIEND, () => true);
        assert.ok(answer.ok);
        socket.write(answer.reply);
        socket.write(`WANT 7 ${buckets.join(' ')}\nWANT-END 7\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const replies: SyncMessage[] = [];
    const { link: outgoing } = dialler(new ManualTimers(), {
      readBufferBytes: 64,
      onSyncReply: (message) => replies.push(message),
    });
    try {
      outgoing.setAddress({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
      await waitUntil(() => replies.length === 2, 5000, 'both replies read');
      assert.deepEqual(replies, [
        { type: 'WANT', syncId: 7, buckets },
        { type: 'WANT-END', syncId: 7 },
      ]);
    } finally {
      await outgoing.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test(`close() waits LINK_CLOSE_TIMEOUT_MS (${LINK_CLOSE_TIMEOUT_MS}) for a neighbour that never ends its side, then cuts the connection`, async () => {
    const friend = await fakeNeighbour(true);
    const timers = new ManualTimers();
    const { link: outgoing } = dialler(timers);
    try {
      outgoing.setAddress(friend.address);
      await waitUntil(() => outgoing.status === 'up', 5000, 'the link up');
      outgoing.send('AT Solo +0.000000000 last +1+1 1700000000');
      let closed = false;
      const closing = outgoing.close().then(() => (closed = true));
      // The last line, then our end of the connection, reach the neighbour; it does not end its side.
      await waitUntil(() => friend.ends() === 1, 5000, 'our end of the connection at the neighbour');
      assert.equal(friend.lines.length, 1);
      timers.advance(LINK_CLOSE_TIMEOUT_MS - 1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(closed, false, 'still waiting for the neighbour');
      timers.advance(1);
      await closing;
      assert.equal(outgoing.status, 'closed');
    } finally {
      timers.advance(LINK_CLOSE_TIMEOUT_MS);
      await outgoing.close();
      await friend.close();
    }
  });
});
