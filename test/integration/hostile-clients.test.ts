/**
 * Hostile clients (docs/operations.md limits): every client limit on real sockets, slow readers that
 * never read, and a graceful close that answers what it received.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { PlacesProvider } from '../../src/places/provider.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { exchange, waitUntil } from '../helpers/herd-process.js';
import { openLineClient as open, roundTrip } from '../helpers/line-client.js';
import { ScriptedPlaces, startServer, withServer } from '../helpers/one-server.js';

describe('limits', { timeout: 120_000 }, () => {
  test('a 10 MiB line without newline gets one "? " with a truncated copy, the connection closes, and others are served', async () => {
    await withServer({}, async (_server, port) => {
      const { socket, lines, closed } = await open(port);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      // Write until the server closes (it must not wait for all 10 MiB) or everything is sent.
      while (sent < 10 * 1024 * 1024 && !socket.destroyed && socket.writable) {
        if (!socket.write(chunk)) await new Promise((resolve) => setTimeout(resolve, 1));
        sent += chunk.length;
      }
      await closed;
      assert.equal(lines.length, 1);
      assert.equal(lines[0], `? ${'a'.repeat(4096)}`);
      assert.match(await exchange(port, 'IAMAT next +1+1 1700000000\n'), /^AT Solo /);
    });
  });

  test('a client id longer than maxClientIdBytes gets "? "', async () => {
    await withServer({ limits: { maxClientIdBytes: 8 } }, async (server, port) => {
      const reply = await exchange(
        port,
        'IAMAT 12345678 +1+1 1700000000\nIAMAT 123456789 +1+1 1700000000\nIAMAT \u00e9\u00e9\u00e9\u00e9\u00e9 +1+1 1700000000\n',
      );
      assert.deepEqual(
        reply.split('\n').map((line) => line.slice(0, 2)),
        ['AT', '? ', '? ', ''],
      );
      assert.equal(server.store.size, 1);
    });
  });

  test('maxConnectionsPerAddress refuses the next connection from that address only, and logs it', async () => {
    const log = capturingLogger();
    await withServer({ logger: log.logger, limits: { maxConnectionsPerAddress: 3 } }, async (_server, port) => {
      const held = await Promise.all([open(port), open(port), open(port)]);
      const refused = await open(port);
      await refused.closed;
      // Another loopback address still gets in.
      const other = await open(port, '127.0.0.2');
      other.socket.end('IAMAT other +1+1 1700000000\n');
      await other.closed;
      assert.match(other.lines[0] ?? '', /^AT Solo /);
      assert.ok(
        log
          .events()
          .some((entry) => entry.event === 'connection-refused' && /maxConnectionsPerAddress \(3\)/.test(entry.msg)),
      );
      for (const connection of held) connection.socket.destroy();
    });
  });

  test('an idle client is closed after idleTimeoutMs; one that keeps talking is not', async () => {
    await withServer({ limits: { idleTimeoutMs: 300 } }, async (_server, port) => {
      // From before the connect: the server's idle time starts at its accept, which is later. Timed
      // from after both connects, a loaded box made the idle client look closed early.
      const started = Date.now();
      const idle = await open(port);
      const busy = await open(port);
      const ticker = setInterval(() => busy.socket.write('\n'), 100);
      try {
        await idle.closed;
        const idleFor = Date.now() - started;
        assert.ok(idleFor >= 250, `closed after ${idleFor} ms`);
        assert.equal(busy.socket.destroyed, false);
        clearInterval(ticker);
        busy.socket.end('IAMAT busy +1+1 1700000000\n');
        await busy.closed;
        assert.match(busy.lines[0] ?? '', /^AT Solo /);
      } finally {
        // On a failure too: a ticking client would keep the server's graceful close (and this file's
        // process) waiting for ever.
        clearInterval(ticker);
        idle.socket.destroy();
        busy.socket.destroy();
      }
    });
  });

  test('maxPendingReplies: the server stops reading while that many replies wait, then answers all in order', async () => {
    const places = new ScriptedPlaces();
    const release = places.gate();
    await withServer({ places, limits: { maxPendingReplies: 5 } }, async (_server, port) => {
      await exchange(port, 'IAMAT p +1+1 1700000000\n');
      const client = await open(port);
      // One line at a time until five wait, so that each arrives in a read of its own.
      for (let i = 1; i <= 5; i++) {
        client.socket.write(`WHATSAT p ${i} 1\n`);
        await waitUntil(() => places.asked.length === i, 5000, `look-up ${i}`);
      }
      for (let i = 6; i <= 20; i++) client.socket.write(`WHATSAT p ${i} 1\n`);
      // A reply on another connection: the server has read what reached it before, unless it stopped.
      await roundTrip(port);
      assert.equal(places.asked.length, 5, 'no more look-ups start while 5 replies wait');
      release();
      client.socket.end();
      await client.closed;
      assert.equal(places.asked.length, 20);
      assert.equal(client.lines.filter((line) => line.startsWith('AT Solo')).length, 20);
    });
  });
});

describe('slow readers', { timeout: 120_000 }, () => {
  test('a client that sends but never reads is paused, then dropped; other clients keep being answered', async () => {
    const log = capturingLogger();
    // Replies of about 4 KiB each, so that unread output piles up quickly.
    const bulky: PlacesProvider = {
      source: 'bulky',
      nearby: async () => ({
        html_attributions: [],
        results: Array.from({ length: 20 }, (_, i) => ({
          geometry: { location: { lat: i, lng: i } },
          name: `Place ${i} ${'x'.repeat(100)}`,
          place_id: `p${i}`,
          types: ['locality'],
        })),
        status: 'OK',
      }),
    };
    await withServer(
      { places: bulky, logger: log.logger, limits: { maxPendingOutputBytes: 64 * 1024, slowReaderTimeoutMs: 800 } },
      async (server, port) => {
        await exchange(port, 'IAMAT big +34.068930-118.445127 1700000000\n');
        const slow = net.connect({ host: '127.0.0.1', port });
        slow.on('error', () => undefined);
        await new Promise((resolve) => slow.once('connect', resolve));
        slow.pause();
        // Each WHATSAT reply is a few hundred bytes; 100k of them would be tens of MB if buffered.
        const burst = 'WHATSAT big 50 20\n'.repeat(2000);
        let writes = 0;
        const pump = setInterval(() => {
          if (writes++ < 50 && !slow.destroyed) slow.write(burst);
        }, 10);
        try {
          await waitUntil(
            () => log.events().some((entry) => entry.event === 'slow-reader-paused'),
            5000,
            'the server to stop reading the slow client',
          );
          // Meanwhile others are served.
          for (let i = 0; i < 5; i++)
            assert.match(await exchange(port, `IAMAT fast-${i} +1+1 1700000000\n`, 2000), /^AT Solo /);
          // The client is paused, so it will not see its socket end: watch the server's side.
          await waitUntil(
            () => log.events().some((entry) => entry.event === 'slow-reader-dropped'),
            5000,
            'the slow client to be dropped',
          );
          await waitUntil(() => server.status().connections === 0, 2000, 'the slow connection to be gone');
        } finally {
          clearInterval(pump);
          slow.destroy();
        }
      },
    );
  });
});

describe('graceful shutdown', { timeout: 120_000 }, () => {
  test('close() stops accepting, answers what was received, then ends', async () => {
    const places = new ScriptedPlaces();
    const release = places.gate();
    const { server, port } = await startServer({ places });
    const client = await open(port);
    client.socket.write('IAMAT g +1+1 1700000000\nWHATSAT g 1 1\n');
    await waitUntil(() => client.lines.length >= 1 && places.asked.length === 1, 2000, 'the AT reply and the look-up');
    const closing = server.close();
    // The listener is closed while the WHATSAT still waits for its look-up.
    await assert.rejects(exchange(port, 'IAMAT late +1+1 1700000000\n', 2000), /ECONNREFUSED/);
    release();
    await closing;
    await client.closed;
    assert.equal(
      client.lines.filter((line) => line.startsWith('AT Solo')).length,
      2,
      'the pending WHATSAT was answered before the close',
    );
  });
});
