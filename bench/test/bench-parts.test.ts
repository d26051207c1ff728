/**
 * The bench's parts: its request lines are valid commands, the load client matches replies
 * to requests on whole and split chunks, and the observer greets like a neighbour (with the product's
 * own handshake, tested in handshake.test.ts), reads client ids from AT lines split anywhere, and
 * declines anti-entropy offers; the median of readings.
 */
import net from 'node:net';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseText } from '../../test/helpers/protocol-text.js';
import { formatHello, newNonce } from '../../src/peers/handshake.js';
import { iamatWriter, whatsatWriter, writeDecimal } from '../request-writers.js';
import { startEchoServer } from '../echo-server.js';
import { runLoad } from '../load-client.js';
import { HerdObserver } from '../observer.js';
import { median } from '../median.js';
import { waitUntil } from '../../test/helpers/herd-process.js';

function linesOf(
  writer: { maxLineBytes: number; write(buffer: Buffer, offset: number, tag: number): number },
  tags: number[],
): string[] {
  const buffer = Buffer.alloc(writer.maxLineBytes * tags.length);
  let offset = 0;
  for (const tag of tags) offset = writer.write(buffer, offset, tag);
  return buffer.toString('latin1', 0, offset).split('\n').slice(0, -1);
}

describe('bench request writers', () => {
  it('write decimals like String()', () => {
    const buffer = Buffer.alloc(20);
    for (const n of [0, 7, 10, 99, 12345, 999_999_999, 2 ** 40]) {
      const end = writeDecimal(buffer, 0, n);
      assert.equal(buffer.toString('latin1', 0, end), String(n));
    }
  });

  it('write IAMATs the server accepts, each client with a later time', () => {
    const lines = linesOf(
      iamatWriter({ prefix: 'c', clients: 3, baseSeconds: 1_700_000_000 }),
      [0, 1, 2, 3, 1_000_000],
    );
    assert.equal(lines[0], 'IAMAT c0 +34.068930-118.445127 1700000000.000000000');
    assert.equal(lines[3], 'IAMAT c0 +34.068930-118.445127 1700000000.000000003');
    for (const line of lines) assert.equal(parseText(line)?.kind, 'IAMAT', line);
    assert.equal(linesOf(iamatWriter({ prefix: 'h' }), [123_456])[0]?.split(' ')[1], 'h123456');
  });

  it('write WHATSATs the server accepts', () => {
    const lines = linesOf(whatsatWriter({ prefix: 'w', clients: 300, radiusKm: 10, bound: 20 }), [0, 301]);
    assert.deepEqual(lines, ['WHATSAT w0 10 20', 'WHATSAT w1 10 20']);
    for (const line of lines) assert.equal(parseText(line)?.kind, 'WHATSAT');
  });
});

describe('bench load client', () => {
  const servers: net.Server[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('gets one reply per request in order, closed loop, with a latency per reply', async () => {
    const server = await startEchoServer();
    servers.push(server);
    const port = (server.address() as net.AddressInfo).port;
    const tags: number[] = [];
    const result = await runLoad({
      targets: [{ host: '127.0.0.1', port }],
      connections: 3,
      window: 4,
      writer: iamatWriter({ prefix: 'c', clients: 10 }),
      requests: 300,
      firstTag: 1000,
      onReply: (tag) => tags.push(tag),
    });
    assert.equal(result.requests, 300);
    assert.equal(result.replies, 300);
    assert.equal(result.latency.count, 300);
    assert.deepEqual(
      [...tags].sort((a, b) => a - b),
      Array.from({ length: 300 }, (_, i) => 1000 + i),
    );
  });

  it('counts blank-line framed replies split across chunks', async () => {
    // Replies like WHATSAT's, written one byte at a time.
    const server = net.createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        const reply = Buffer.from('AT x\n{\n "a" : 1\n}\n\n'.repeat(chunk.toString().split('\n').length - 1));
        for (let i = 0; i < reply.length; i++) socket.write(reply.subarray(i, i + 1));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const result = await runLoad({
      targets: [{ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }],
      connections: 2,
      window: 3,
      writer: whatsatWriter({ prefix: 'w', clients: 5, radiusKm: 10, bound: 20 }),
      framing: 'blank-line',
      requests: 40,
    });
    assert.equal(result.replies, 40);
  });
});

describe('bench observer', () => {
  it('greets a server, reads client numbers from AT lines split anywhere, and wants nothing', async () => {
    const observer = await HerdObserver.listen();
    const seen: [string, number][] = [];
    observer.onAt = (server, clientNumber) => seen.push([server.name, clientNumber]);
    const socket = net.connect({ host: '127.0.0.1', port: observer.port });
    try {
      let received = '';
      socket.setEncoding('utf8').on('data', (text: string) => (received += text));
      await new Promise((resolve) => socket.once('connect', resolve));
      const lines =
        formatHello('Ball', '7') +
        'AT Ball +0.000100000 h42 +34.068930-118.445127 1700000000.5\n' +
        'SYNC 9 1\nSUMS 9 0 0000000000000001\nSUMS-END 9\n' +
        'AT Welsh -0.000000001 other-client +1+1 1700000000\n' +
        'AT Ball +0.000100000 h7 +1+1 1700000000\n';
      // Byte by byte: every split point at once.
      for (const byte of Buffer.from(lines)) socket.write(Buffer.from([byte]));
      await waitUntil(
        () => seen.length >= 3 && received.includes('WANT-END 9'),
        5000,
        'the observer to take the lines',
      );
      assert.equal(received, `WELCOME Observer ${observer.incarnation}\nWANT-END 9\n`);
      assert.deepEqual(seen, [
        ['Ball', 42],
        ['Ball', -1],
        ['Ball', 7],
      ]);
      assert.equal(observer.atLinesFrom('Ball'), 3);
    } finally {
      socket.destroy();
      await observer.close();
    }
  });

  it('with a secret, counts nothing from a server that fails to authenticate', async () => {
    const observer = await HerdObserver.listen({ secret: Buffer.from('0123456789abcdef0123456789abcdef') });
    const socket = net.connect({ host: '127.0.0.1', port: observer.port });
    try {
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.on('error', () => {});
      socket.resume();
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `${formatHello('Ball', '7', newNonce()).trimEnd()}\nAUTH ${'0'.repeat(64)}\nAT Ball +0.000100000 h42 +1+1 1700000000\n`,
      );
      await closed;
      assert.equal(observer.atLinesFrom('Ball'), 0);
      assert.equal(observer.servers.size, 0);
    } finally {
      socket.destroy();
      await observer.close();
    }
  });
});

describe('bench median', () => {
  it('takes the middle reading, or the mean of the two middle ones, without reordering its input', () => {
    const readings = [5, 1, 3];
    assert.equal(median(readings), 3);
    assert.deepEqual(readings, [5, 1, 3]);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    assert.ok(Number.isNaN(median([])));
  });
});
