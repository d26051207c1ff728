/**
 * HerdServer.listen() opens the client port once the server is in the flood (docs/operations.md
 * "Start-up"): after the peer port listens, it dials the neighbours it knows and waits until each
 * links back, or refused the dial, or `peer.joinTimeoutMs` passed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { HerdServer, type HerdServerOptions } from '../../src/server/herd-server.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { exchange, waitUntil } from '../helpers/herd-process.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { soloOptions } from '../helpers/one-server.js';
import { freeLoopbackPort } from '../helpers/loopback.js';

function member(name: string, neighbours: string[], options: Partial<HerdServerOptions> = {}): HerdServer {
  return new HerdServer(soloOptions({ name, neighbours, ...options }));
}

describe('joining the herd before taking clients', { timeout: 30_000 }, () => {
  test('the client port opens once the neighbour links back both ways', async () => {
    // Each knows where the other's peer port is, as in a configured herd.
    const alfordPeerPort = await freeLoopbackPort();
    const ball = member('Ball', ['Alford'], {
      peerAddresses: new Map([['Alford', { host: '127.0.0.1', port: alfordPeerPort }]]),
    });
    const { peer, client: ballClient } = await ball.listen();
    const alford = member('Alford', ['Ball'], {
      peerPort: alfordPeerPort,
      peerAddresses: new Map([['Ball', { host: '127.0.0.1', port: peer.port }]]),
    });
    try {
      const { client } = await alford.listen();
      // Ball's link to Alford came up before Alford took a client: a check-in at Ball reaches it.
      const [row] = alford.status().links;
      assert.equal(row?.inbound, true, 'Ball linked to Alford');
      assert.equal(row?.status, 'up', 'Alford linked to Ball');
      const at = (await exchange(ballClient.port, 'IAMAT c +1+1 1700000000\n')).trimEnd();
      await waitUntil(async () => (await exchange(client.port, 'WHATSAT c 1 1\n')).startsWith(at), 5000, 'the flood');
    } finally {
      await alford.close();
      await ball.close();
    }
  });

  test('a neighbour that refuses the dial is not waited for', async () => {
    const timers = new ManualTimers();
    const closedPort = await freeLoopbackPort();
    const alford = member('Alford', ['Ball'], {
      timers,
      peerAddresses: new Map([['Ball', { host: '127.0.0.1', port: closedPort }]]),
    });
    try {
      // No timer is moved: the refusal alone ends the wait.
      await alford.listen();
      assert.equal(alford.status().links[0]?.status, 'backoff');
    } finally {
      await alford.close();
    }
  });

  test(`a neighbour that accepts and never answers is waited for up to peer.joinTimeoutMs, then clients are taken`, async () => {
    const timers = new ManualTimers();
    const hellos: string[] = [];
    const frozen = net.createServer((socket) => socket.on('data', (chunk: Buffer) => hellos.push(chunk.toString())));
    await new Promise<void>((resolve) => frozen.listen(0, '127.0.0.1', resolve));
    const log = capturingLogger();
    const alford = member('Alford', ['Ball'], {
      timers,
      logger: log.logger,
      links: { joinTimeoutMs: 300 },
      peerAddresses: new Map([['Ball', { host: '127.0.0.1', port: (frozen.address() as net.AddressInfo).port }]]),
    });
    let listening = false;
    const listened = alford.listen().then((addresses) => {
      listening = true;
      return addresses;
    });
    try {
      await waitUntil(() => hellos.join('').startsWith('HELLO Alford '), 5000, 'the HELLO');
      assert.equal(listening, false, 'no client port while the neighbour is being dialled');
      timers.advance(299);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(listening, false);
      timers.advance(1);
      const { client } = await listened;
      assert.match(await exchange(client.port, 'IAMAT c +1+1 1700000000\n'), /^AT Alford /);
      const joined = log.events().find((entry) => entry.event === 'joined');
      assert.equal(joined?.level, 40);
      assert.deepEqual(joined?.waitingFor, ['Ball']);
      assert.match(String(joined?.msg), /not up within 300 ms \(peer\.joinTimeoutMs\); taking clients anyway/);
    } finally {
      await listened.catch(() => undefined);
      await alford.close();
      await new Promise((resolve) => frozen.close(resolve));
    }
  });

  test('a server closed while it joins never opens its client port, and its listen() rejects', async () => {
    const timers = new ManualTimers();
    const hellos: string[] = [];
    const frozen = net.createServer((socket) => socket.on('data', (chunk: Buffer) => hellos.push(chunk.toString())));
    await new Promise<void>((resolve) => frozen.listen(0, '127.0.0.1', resolve));
    const port = await freeLoopbackPort();
    const alford = member('Alford', ['Ball'], {
      timers,
      port,
      links: { joinTimeoutMs: 300 },
      peerAddresses: new Map([['Ball', { host: '127.0.0.1', port: (frozen.address() as net.AddressInfo).port }]]),
    });
    try {
      // Watched from the start: the close ends the wait at once, so listen() may reject during it.
      const rejected = assert.rejects(alford.listen(), /closed while it started/);
      await waitUntil(() => hellos.join('').startsWith('HELLO Alford '), 5000, 'the HELLO');
      // A SIGTERM in the middle of the start: the wait for the links ends with the close.
      await alford.close();
      timers.advance(300);
      await rejected;
      await assert.rejects(exchange(port, 'IAMAT c +1+1 1700000000\n'), /ECONNREFUSED/);
    } finally {
      await alford.close();
      await new Promise((resolve) => frozen.close(resolve));
    }
  });
});
