/**
 * Hostile peers and networks: forged, replayed and half-finished peer handshakes on real sockets, the
 * herd secret between linked servers, and TLS.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { formatHello, handshakeMac, newNonce, parseGreeting } from '../../src/peers/handshake.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { ROOT, exchange, waitUntil } from '../helpers/herd-process.js';
import { openLineClient as open } from '../helpers/line-client.js';
import { linkPair, soloOptions, withServer } from '../helpers/one-server.js';

const SECRET = Buffer.from('correct horse battery staple 42');

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
    const server = new HerdServer(
      soloOptions({
        name: 'A',
        neighbours: ['Mute'],
        logger: log.logger,
        links: { handshakeTimeoutMs: 150, reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 50 },
      }),
    );
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
    const a = new HerdServer(
      soloOptions({
        name: 'A',
        neighbours: ['B'],
        secret: SECRET,
      }),
    );
    const b = new HerdServer(
      soloOptions({
        name: 'B',
        neighbours: ['A'],
        logger: log.logger,
        secret: SECRET,
      }),
    );
    const intruder = new HerdServer(
      soloOptions({
        name: 'A',
        neighbours: ['B'],
        logger: intruderLog.logger,
        secret: Buffer.from('a different secret of 32 bytes!!'),
      }),
    );
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
    const common = { secret: SECRET, tls: tlsOptions };
    const a = new HerdServer(soloOptions({ ...common, name: 'A', neighbours: ['B'] }));
    const b = new HerdServer(soloOptions({ ...common, name: 'B', neighbours: ['A'], logger: log.logger }));
    try {
      const { portA, portB } = await linkPair(a, b);
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
