/**
 * Hostile clients and networks (issue "Hostile clients and networks"): every limit on real sockets,
 * slow readers, forged and replayed peer handshakes, TLS, graceful shutdown.
 */
import { capturingLogger } from '../helpers/capture-log.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { silentLogger } from '../../src/observability/logger.js';
import { formatHello, handshakeMac, newNonce, parseGreeting } from '../../src/peers/handshake.js';
import type { NearbySearchResponse, PlacesProvider } from '../../src/places/provider.js';
import { HerdServer, type HerdServerOptions } from '../../src/server/herd-server.js';
import { ROOT, exchange, waitUntil } from '../helpers/herd-process.js';

const SECRET = Buffer.from('correct horse battery staple 42');
const quickPlaces: PlacesProvider = {
  source: 'test',
  nearby: async () => ({ html_attributions: [], results: [], status: 'ZERO_RESULTS' }),
};

async function withServer(
  options: Partial<HerdServerOptions>,
  body: (server: HerdServer, port: number, peerPort: number) => Promise<void>,
): Promise<void> {
  const server = new HerdServer({
    name: 'Solo',
    host: '127.0.0.1',
    port: 0,
    neighbours: [],
    places: quickPlaces,
    logger: silentLogger(),
    ...options,
  });
  const { client, peer } = await server.listen();
  try {
    await body(server, client.port, peer.port);
  } finally {
    await server.close();
  }
}

/** A connected socket with a line reader; `closed` resolves when the server has ended or closed it. */
async function open(
  port: number,
  localAddress?: string,
): Promise<{ socket: net.Socket; lines: string[]; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true });
  const lines: string[] = [];
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffer += text;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      lines.push(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
  socket.on('error', () => undefined);
  // With allowHalfOpen the socket only closes once we end too: the server is done at its 'end'.
  const closed = new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, lines, closed };
}

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
      const idle = await open(port);
      const busy = await open(port);
      const started = Date.now();
      const ticker = setInterval(() => busy.socket.write('\n'), 100);
      await idle.closed;
      const idleFor = Date.now() - started;
      assert.ok(idleFor >= 250, `closed after ${idleFor} ms`);
      assert.equal(busy.socket.destroyed, false);
      clearInterval(ticker);
      busy.socket.end('IAMAT busy +1+1 1700000000\n');
      await busy.closed;
      assert.match(busy.lines[0] ?? '', /^AT Solo /);
    });
  });

  test('maxPendingReplies: the server stops reading while that many replies wait, then answers all in order', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const places: PlacesProvider = {
      source: 'gated',
      nearby: async (): Promise<NearbySearchResponse> => {
        calls++;
        await gate;
        return { html_attributions: [], results: [], status: 'ZERO_RESULTS' };
      },
    };
    await withServer({ places, limits: { maxPendingReplies: 5 } }, async (_server, port) => {
      await exchange(port, 'IAMAT p +1+1 1700000000\n');
      const client = await open(port);
      for (let i = 0; i < 20; i++) {
        client.socket.write(`WHATSAT p ${i + 1} 1\n`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(calls, 5, 'no more look-ups start while 5 replies wait');
      release();
      client.socket.end();
      await client.closed;
      assert.equal(calls, 20);
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

describe('peer authentication', { timeout: 120_000 }, () => {
  const withSecureServer = (body: (server: HerdServer, port: number, peerPort: number) => Promise<void>) =>
    withServer({ neighbours: ['Friend'], secret: SECRET }, body);

  test('on the client port, an AT line or any other link message gets "? " and changes nothing', async () => {
    await withSecureServer(async (server, port) => {
      const lines = [
        'AT Friend +0.000000000 victim +1+1 1700000000',
        'HELLO Friend 1',
        `HELLO Friend 1 ${newNonce()}`,
        `AUTH ${'ab'.repeat(32)}`,
        'WELCOME Friend 1',
        'SYNC 1 1',
        'SUMS 1 0 0000000000000001',
        'SUMS-END 1',
        'WANT 1 0',
        'WANT-END 1',
        'SYNCED 1 0',
      ];
      assert.equal(
        await exchange(port, lines.map((line) => `${line}\n`).join('')),
        lines.map((line) => `? ${line}\n`).join(''),
      );
      assert.equal(server.store.get('victim'), undefined);
      assert.equal(server.status().links[0]?.inbound, false);
    });
  });

  test('on the peer port, client commands and refused HELLOs get no reply, close the connection and change nothing', async () => {
    const log = capturingLogger();
    await withServer({ neighbours: ['Friend'], secret: SECRET, logger: log.logger }, async (server, port, peerPort) => {
      assert.match(await exchange(port, 'IAMAT held +1+1 1700000000\n'), /^AT Solo /);
      for (const first of [
        'IAMAT victim +1+1 1700000000',
        'WHATSAT held 10 5',
        'AT Friend +0.000000000 victim +1+1 1700000000',
        'HELLO Friend 1',
        `HELLO Stranger 1 ${newNonce()}`,
        'SYNC 1 1',
      ]) {
        const connection = await open(peerPort);
        connection.socket.write(`${first}\nAT Friend +0.000000000 victim +1+1 1700000000\n`);
        await connection.closed;
        assert.deepEqual(connection.lines, [], `no reply to ${first}`);
        connection.socket.destroy();
      }
      assert.equal(server.store.get('victim'), undefined);
      assert.equal(server.store.size, 1);
      const refused = log.events().filter((entry) => entry.event === 'peer-rejected');
      assert.deepEqual(
        refused.map((entry) => entry.reason),
        [
          'first line is not a HELLO',
          'first line is not a HELLO',
          'first line is not a HELLO',
          'no challenge, but this herd has a secret',
          'not a neighbour',
          'first line is not a HELLO',
        ],
      );
      await waitUntil(() => server.status().connections === 0, 2000, 'every peer-port connection to be closed');
    });
  });

  test('a neighbour that accepts but never answers HELLO is dropped after handshakeTimeoutMs and re-dialled', async () => {
    const log = capturingLogger();
    const accepted: net.Socket[] = [];
    const silent = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const server = new HerdServer({
      name: 'A',
      host: '127.0.0.1',
      port: 0,
      neighbours: ['Mute'],
      places: quickPlaces,
      logger: log.logger,
      links: { handshakeTimeoutMs: 150, reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 50 },
    });
    try {
      await server.listen();
      server.setPeerAddress('Mute', { host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port });
      await waitUntil(
        () => log.events().filter((entry) => entry.event === 'handshake-timeout').length >= 2,
        5000,
        'two handshake time-outs',
      );
      assert.ok(accepted.length >= 2, 'the link dialled again after the time-out');
      assert.notEqual(server.peerLinks.get('Mute')?.status, 'up');
    } finally {
      await server.close();
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('a HELLO that is never followed by AUTH is cut off after handshakeTimeoutMs', async () => {
    const log = capturingLogger();
    await withServer(
      { neighbours: ['Friend'], secret: SECRET, logger: log.logger, links: { handshakeTimeoutMs: 200 } },
      async (server, _port, peerPort) => {
        const client = await open(peerPort);
        const started = Date.now();
        client.socket.write(formatHello('Friend', '7', newNonce()));
        await client.closed;
        assert.ok(Date.now() - started >= 150, `cut off after ${Date.now() - started} ms`);
        assert.equal(parseGreeting(client.lines[0] ?? '')?.verb, 'WELCOME');
        assert.ok(log.events().some((entry) => entry.event === 'peer-rejected' && entry.reason === 'no AUTH in time'));
        await waitUntil(() => server.status().connections === 0, 2000, 'the connection to be gone');
      },
    );
  });

  /** Runs the dialler's side of the handshake by hand on the peer port; returns the lines sent and the connection. */
  async function handshake(peerPort: number, secret: Buffer, replay?: { hello: string; auth: string }) {
    const client = await open(peerPort);
    const nonce = newNonce();
    const hello = replay?.hello ?? formatHello('Friend', '7', nonce);
    client.socket.write(hello);
    await waitUntil(() => client.lines.length >= 1, 2000, 'WELCOME');
    const welcome = parseGreeting(client.lines[0] ?? '');
    assert.equal(welcome?.verb, 'WELCOME');
    const auth =
      replay?.auth ?? `AUTH ${handshakeMac(secret, 'AUTH', 'Friend', 'Solo', welcome?.nonce ?? '', nonce, '7')}\n`;
    client.socket.write(auth);
    return { client, hello, auth };
  }

  test('a handshake with the wrong secret is refused and its floods are never taken', async () => {
    await withSecureServer(async (server, _port, peerPort) => {
      const { client } = await handshake(peerPort, Buffer.from('not the herd secret at all!!'));
      client.socket.write('AT Friend +0.000000000 forged +1+1 1700000000\n');
      await client.closed;
      assert.equal(client.lines.length, 1, 'nothing after the WELCOME');
      assert.equal(server.store.get('forged'), undefined);
      assert.equal(server.status().links[0]?.inbound, false);
    });
  });

  test('a replayed handshake fails: the AUTH of an earlier session does not answer a new challenge', async () => {
    await withSecureServer(async (server, _port, peerPort) => {
      const genuine = await handshake(peerPort, SECRET);
      genuine.client.socket.write('AT Friend +0.000000000 genuine +1+1 1700000000\n');
      await waitUntil(() => server.store.get('genuine') !== undefined, 2000, 'the genuine flood');
      assert.equal(server.status().links[0]?.inbound, true);
      genuine.client.socket.destroy();
      const replayed = await handshake(peerPort, SECRET, { hello: genuine.hello, auth: genuine.auth });
      replayed.client.socket.write('AT Friend +0.000000000 replayed +1+1 1700000000\n');
      await replayed.client.closed;
      assert.equal(replayed.client.lines.length, 1, 'nothing after the WELCOME');
      assert.equal(server.store.get('replayed'), undefined);
    });
  });

  test('linked servers with the same secret flood; a server with another secret never links', async () => {
    const log = capturingLogger();
    const intruderLog = capturingLogger();
    const a = new HerdServer({
      name: 'A',
      host: '127.0.0.1',
      port: 0,
      neighbours: ['B'],
      places: quickPlaces,
      logger: silentLogger(),
      secret: SECRET,
    });
    const b = new HerdServer({
      name: 'B',
      host: '127.0.0.1',
      port: 0,
      neighbours: ['A'],
      places: quickPlaces,
      logger: log.logger,
      secret: SECRET,
    });
    const intruder = new HerdServer({
      name: 'A',
      host: '127.0.0.1',
      port: 0,
      neighbours: ['B'],
      places: quickPlaces,
      logger: intruderLog.logger,
      secret: Buffer.from('a different secret of 32 bytes!!'),
    });
    try {
      const listeningA = await a.listen();
      const listeningB = await b.listen();
      await intruder.listen();
      a.setPeerAddress('B', { host: '127.0.0.1', port: listeningB.peer.port });
      b.setPeerAddress('A', { host: '127.0.0.1', port: listeningA.peer.port });
      await exchange(listeningA.client.port, 'IAMAT linked +1+1 1700000000\n');
      await waitUntil(() => b.store.get('linked') !== undefined, 5000, 'B to learn from A');
      intruder.setPeerAddress('B', { host: '127.0.0.1', port: listeningB.peer.port });
      // B's WELCOME carries a MAC under B's secret: the intruder cannot verify it and never sends AUTH.
      await waitUntil(
        () =>
          intruderLog.events().filter((entry) => entry.event === 'handshake-rejected' && entry.reason === 'bad MAC')
            .length >= 2,
        5000,
        "the intruder to fail B's challenge twice",
      );
      assert.notEqual(intruder.peerLinks.get('B')?.status, 'up');
      assert.equal(
        log.events().filter((entry) => entry.event === 'peer-connected').length,
        1,
        'B linked only with the real A',
      );
    } finally {
      await Promise.all([a.close(), b.close(), intruder.close()]);
    }
  });
});

describe('TLS', { timeout: 120_000 }, () => {
  const cert = readFileSync(path.join(ROOT, 'test', 'fixtures', 'tls', 'herd-test.crt'));
  const key = readFileSync(path.join(ROOT, 'test', 'fixtures', 'tls', 'herd-test.key'));
  const tlsOptions = { server: { cert, key }, client: { cert, key, ca: cert, rejectUnauthorized: true } };

  test('links and clients work over TLS with the herd secret; a plain-TCP client gets nothing', async () => {
    const log = capturingLogger();
    const common = { host: '127.0.0.1', port: 0, places: quickPlaces, secret: SECRET, tls: tlsOptions };
    const a = new HerdServer({ ...common, name: 'A', neighbours: ['B'], logger: silentLogger() });
    const b = new HerdServer({ ...common, name: 'B', neighbours: ['A'], logger: log.logger });
    try {
      const listeningA = await a.listen();
      const listeningB = await b.listen();
      const portA = listeningA.client.port;
      const portB = listeningB.client.port;
      a.setPeerAddress('B', { host: '127.0.0.1', port: listeningB.peer.port });
      b.setPeerAddress('A', { host: '127.0.0.1', port: listeningA.peer.port });
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: portA, ca: cert }, () =>
          socket.write('IAMAT secure +1+1 1700000000\n'),
        );
        // The server keeps the connection open after its reply; close once the reply is in.
        socket.once('data', () => setTimeout(() => socket.end(), 20));
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
      });
      assert.match(reply, /^AT A \S+ secure \+1\+1 1700000000\n$/);
      await waitUntil(() => b.store.get('secure') !== undefined, 5000, 'the flood over TLS');
      const plain = await exchange(portB, 'IAMAT plain +1+1 1700000000\n', 5000).catch(() => '');
      assert.equal(plain, '');
      await waitUntil(
        () => log.events().some((entry) => entry.event === 'tls-error'),
        5000,
        'the TLS error to be logged',
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('graceful shutdown', { timeout: 120_000 }, () => {
  test('close() stops accepting, answers what was received, then ends', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const places: PlacesProvider = {
      source: 'gated',
      nearby: async () => {
        await gate;
        return { html_attributions: [], results: [], status: 'ZERO_RESULTS' };
      },
    };
    const server = new HerdServer({
      name: 'Solo',
      host: '127.0.0.1',
      port: 0,
      neighbours: [],
      places,
      logger: silentLogger(),
    });
    const {
      client: { port },
    } = await server.listen();
    const client = await open(port);
    client.socket.write('IAMAT g +1+1 1700000000\nWHATSAT g 1 1\n');
    await waitUntil(() => client.lines.length >= 1, 2000, 'the AT reply');
    const closing = server.close();
    await assert.rejects(exchange(port, 'IAMAT late +1+1 1700000000\n', 2000), /ECONNREFUSED/);
    setTimeout(release, 100);
    await closing;
    await client.closed;
    assert.equal(
      client.lines.filter((line) => line.startsWith('AT Solo')).length,
      2,
      'the pending WHATSAT was answered before the close',
    );
  });
});
