/**
 * The admin port before its hand-over, out of descriptors for real (src/observability/admin-listener.ts):
 * a process that holds its admin port lowers its own descriptor limit, and more connections come than
 * it can accept. libuv closes those it cannot keep (its spare descriptor: docs/operations.md "When
 * descriptors run out"); should an accept fail outright, the listener hears the `'error'`. Either
 * way the process goes on, and the connections it held are answered once the port is handed over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, waitUntil } from '../helpers/herd-process.js';
import { nodeModule } from '../helpers/ts-module.js';

/** Descriptors the child may still open after binding (it holds about this many connections). */
const HEADROOM = 8;
/** The child that holds the admin port (test/helpers/admin-listener-child.ts). */
const CHILD = nodeModule(path.join(ROOT, 'test', 'helpers', 'admin-listener-child.ts'));
/** Connections made: several times what it can hold. */
const CONNECTIONS = 5 * HEADROOM;

test('out of descriptors before the hand-over: connections past the limit are closed, the process goes on, the held ones are answered after it', async () => {
  const child = spawn(process.execPath, [...CHILD.nodeArgs, CHILD.file, String(HEADROOM)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      lines.once('line', resolve);
      void exited.then((code) => reject(new Error(`the child exited (${code}) before printing a line`)));
    });
  const sockets: net.Socket[] = [];
  const closed = new Set<net.Socket>();
  try {
    const port = Number((await next()).replace(/^port /, ''));
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('close', () => closed.add(socket));
      sockets.push(socket);
    }
    // The accepts past the limit fail; libuv closes what it could not hand over, so some clients see
    // their connection closed: the fault happened.
    await waitUntil(() => closed.size > 0, 10_000, 'a connection past the descriptor limit to be closed');
    const handed = next();
    child.stdin.write('hand over\n');
    assert.equal(await handed, 'handed');

    const first = sockets[0] as net.Socket;
    assert.equal(closed.has(first), false, 'the first connection was held');
    let answer = '';
    first.setEncoding('utf8');
    first.on('data', (text: string) => (answer += text));
    first.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await waitUntil(() => /\r\n\r\nok$/.test(answer), 10_000, 'the held connection to be answered');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.equal(child.exitCode, null, 'the process is still running');
  } finally {
    for (const socket of sockets) socket.destroy();
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
  }
});
