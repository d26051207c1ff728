/**
 * A herd run under `ulimit -n 256` while 400 clients connect to one server (docs/operations.md "When
 * descriptors run out"): the connections it holds are served; the ones past its budget are refused at
 * once (closed, counted, logged at most once a second), with the listener kept open; its link to its
 * neighbour reconnects while clients hold every descriptor they may; and new clients are served as
 * soon as descriptors free up.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { ServerStatus } from '../../src/core/status.js';
import { httpGet } from '../../src/observability/admin-client.js';
import { RunningHerd, exchange, tempHerdConfig, waitUntil } from '../helpers/herd-process.js';

const LIMIT = 256;
const CLIENTS = 400;

/** A client connection that has sent one IAMAT: its reply, or how it ended without one. */
interface Attempt {
  readonly socket: net.Socket;
  readonly outcome: 'served' | 'refused';
}

/** Connects, sends an IAMAT, and waits for its reply or for the server to close the connection. */
function attempt(port: number, clientId: string): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => reject(new Error(`${clientId}: neither served nor refused within 10 s`)), 10_000);
    socket.once('connect', () => socket.write(`IAMAT ${clientId} +1+1 1700000000\n`));
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      assert.match(chunk.toString(), /^AT A /);
      resolve({ socket, outcome: 'served' });
    });
    // Refused: closed at accept (a reset, since the IAMAT was never read).
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ socket, outcome: 'refused' });
    });
  });
}

/** Sends one line on an open connection and resolves with the reply's first chunk and its latency, ms. */
function ask(socket: net.Socket, line: string): Promise<{ reply: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve({ reply: chunk.toString(), ms: performance.now() - started }));
    socket.write(line);
  });
}

async function status(adminUrl: string): Promise<ServerStatus> {
  return JSON.parse((await httpGet(`${adminUrl}/status`, 3000)).body) as ServerStatus;
}

describe('a server out of file descriptors', { timeout: 120_000 }, () => {
  test(`${CLIENTS} clients at ulimit -n ${LIMIT}: held ones served, the rest refused and counted, links reconnect, and new clients get in once descriptors free up`, async (t) => {
    const { configFile, cleanup } = await tempHerdConfig({ servers: ['A', 'B'], links: [['A', 'B']], admin: true });
    const herd = await RunningHerd.start(configFile, [], undefined, LIMIT);
    const sockets: net.Socket[] = [];
    try {
      const a = herd.servers.get('A');
      assert.ok(a?.adminUrl !== undefined);
      const adminUrl = a.adminUrl;
      const linked = async (): Promise<boolean> => {
        const row = (await status(adminUrl)).links.find((each) => each.peer === 'B');
        return row?.status === 'up' && row.inbound;
      };
      await waitUntil(linked, 15_000, 'the link between A and B');
      const started = performance.now();
      const attempts: Attempt[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        const each = await attempt(a.port, `fd-${i}`);
        attempts.push(each);
        sockets.push(each.socket);
      }
      const held = attempts.filter((each) => each.outcome === 'served').map((each) => each.socket);
      const refused = attempts.length - held.length;
      t.diagnostic(`held ${held.length} connections, refused ${refused}`);
      assert.ok(held.length >= 100, `held ${held.length}`);
      assert.ok(refused >= 1, 'some were refused');

      // The held connections are served.
      const latencies: number[] = [];
      for (const socket of held) {
        const { reply, ms } = await ask(socket, 'WHATSAT fd-0 1 1\n');
        assert.match(reply, /^AT A /);
        latencies.push(ms);
      }
      latencies.sort((x, y) => x - y);
      t.diagnostic(`held clients' WHATSAT p99 ${latencies[Math.floor(latencies.length * 0.99)]?.toFixed(2)} ms`);

      // Counted, and logged at most once a second.
      const metrics = (await httpGet(`${adminUrl}/metrics`, 3000)).body;
      const counted = Number(/^herd_accept_failures_total\{reason="descriptors"[^}]*\} (\d+)/m.exec(metrics)?.[1]);
      assert.equal(counted, refused);
      const seconds = (performance.now() - started) / 1000;
      await waitUntil(
        async () => (await readFile(a.logFile, 'utf8')).includes('"reason":"descriptors"'),
        5000,
        'the refusal to be logged',
      );
      const lines = (await readFile(a.logFile, 'utf8'))
        .split('\n')
        .filter((line) => line.includes('"event":"connection-refused"') && line.includes('"reason":"descriptors"'));
      assert.ok(lines.length <= Math.ceil(seconds) + 1, `${lines.length} log lines in ${seconds.toFixed(1)} s`);

      // The link reconnects while clients hold all they may: B is killed and restarted by the supervisor.
      herd.kill('B');
      await waitUntil(async () => !(await linked()), 10_000, 'A to see B gone');
      await herd.waitForLine(/B is back/, 15_000);
      await waitUntil(linked, 15_000, 'the link between A and B again');
      const viaB = (await exchange(herd.port('B'), 'IAMAT via-b +2+2 1700000001\n')).trimEnd();
      const first = held[0] as net.Socket;
      await waitUntil(
        async () => (await ask(first, 'WHATSAT via-b 1 1\n')).reply.startsWith(viaB),
        5000,
        'the update made at B to reach A',
      );

      // Descriptors free up: a new client is served at once.
      for (const socket of sockets) socket.destroy();
      const freed = performance.now();
      await waitUntil(
        async () => (await exchange(a.port, 'IAMAT after +1+1 1700000000\n', 2000).catch(() => '')).startsWith('AT A'),
        1000,
        'a new client to be served within 1 s of descriptors freeing',
      );
      t.diagnostic(`served again ${Math.round(performance.now() - freed)} ms after the clients closed`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await herd.stop();
      await cleanup();
    }
  });
});
