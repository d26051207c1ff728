/**
 * Limits and shutdown of a real `herd serve` process (issue "Hostile clients and networks"): as many
 * connections as the file-descriptor limit allows, SIGTERM that answers and flushes, and a second
 * SIGTERM that exits at once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { exchange, waitUntil } from '../helpers/herd-process.js';
import { serveSolo, stopSolo as stop, type Solo } from '../helpers/solo-process.js';
import { MEMORY_STORE, QUIET_LOG } from '../helpers/herd-config-options.js';

/** Whether the server has logged an event named `event` (its log is JSON lines, written in batches). */
async function logged(serving: Solo, event: string): Promise<boolean> {
  return (await readFile(serving.logFile, 'utf8').catch(() => '')).includes(`"event":"${event}"`);
}

/** This process's soft limit on open files (children of `sh` inherit it). */
function softFileLimit(): number {
  return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
}

describe('a herd serve process', { timeout: 180_000 }, () => {
  test('holds as many connections as the descriptor limit allows, refuses one past maxConnections, and keeps serving', async () => {
    const limit = softFileLimit();
    // Leave room in this process for the extra sockets the test opens itself.
    const count = Math.max(100, Math.min(limit - 300, 16_000));
    // The claim is the connections': tables in memory, and the refusal read is a warning, so no
    // line for each of the held connections (docs/deploy.md "The test bed").
    const serving = await serveSolo({
      limits: { maxConnections: count, maxConnectionsPerAddress: count + 100 },
      store: MEMORY_STORE,
      ...QUIET_LOG,
    });
    const held: net.Socket[] = [];
    try {
      for (let opened = 0; opened < count;) {
        const batch = Math.min(500, count - opened);
        await Promise.all(
          Array.from({ length: batch }, () => {
            const socket = net.connect({ host: '127.0.0.1', port: serving.port });
            socket.on('error', () => undefined);
            held.push(socket);
            return new Promise<void>((resolve, reject) => {
              socket.once('connect', () => resolve());
              socket.once('error', reject);
            });
          }),
        );
        opened += batch;
      }
      // A reply on the last connection: the server accepts in order, so it holds every one before it.
      const last = held[held.length - 1] as net.Socket;
      const reply = new Promise<string>((resolve) => last.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      last.write('IAMAT held +1+1 1700000000\n');
      assert.match(await reply, /^AT Solo /);
      const extra = net.connect({ host: '127.0.0.1', port: serving.port });
      extra.on('error', () => undefined);
      await new Promise<void>((resolve) => extra.once('close', () => resolve()));
      // Freeing one slot lets a new client in.
      (held.shift() as net.Socket).destroy();
      await waitUntil(
        async () =>
          (await exchange(serving.port, 'IAMAT fresh +1+1 1700000000\n', 3000).catch(() => '')).startsWith('AT Solo'),
        5000,
        'a new client to get in',
      );
      // Logs are written asynchronously in batches: wait for the line.
      await waitUntil(
        async () =>
          /"event":"connection-refused".*maxConnections \(\d+\) reached/.test(await readFile(serving.logFile, 'utf8')),
        10_000,
        'the refusal to be logged',
      );
      console.log(`# held ${count} connections (soft descriptor limit ${limit})`);
    } finally {
      for (const socket of held) socket.destroy();
      await stop(serving);
      await rm(serving.dir, { recursive: true, force: true });
    }
  });

  test('SIGTERM stops accepting, commits the store and exits; a restart has every acknowledged update', async () => {
    // The store is the claim (durable); no log line is read.
    let serving = await serveSolo(QUIET_LOG);
    try {
      const lines = Array.from({ length: 50 }, (_, i) => `IAMAT term-${i} +1+1 1700000000\n`).join('');
      const reply = await exchange(serving.port, lines);
      assert.equal(reply.split('\n').filter((line) => line.startsWith('AT Solo')).length, 50);
      // At once, well inside the 50 ms commit interval: only a graceful stop can have committed them.
      serving.child.kill('SIGTERM');
      assert.equal(await serving.exited, 0);
      serving = await serveSolo({ dir: serving.dir, ...QUIET_LOG });
      const ids = Array.from({ length: 50 }, (_, i) => `WHATSAT term-${i} 1 1\n`).join('');
      const answers = await exchange(serving.port, ids);
      assert.equal(answers.split('\n').filter((line) => line.startsWith('AT Solo')).length, 50);
    } finally {
      await stop(serving);
      await rm(serving.dir, { recursive: true, force: true });
    }
  });

  test('a second SIGTERM exits at once while the first is still waiting for a client that does not read', async () => {
    const serving = await serveSolo({
      limits: { shutdownGraceMs: 60_000, slowReaderTimeoutMs: 60_000, maxPendingOutputBytes: 16 * 1024 },
    });
    const slow = net.connect({ host: '127.0.0.1', port: serving.port });
    slow.on('error', () => undefined);
    try {
      await new Promise((resolve) => slow.once('connect', resolve));
      slow.pause();
      slow.write('IAMAT la +34.068930-118.445127 1700000000\n');
      slow.write('WHATSAT la 50 20\n'.repeat(3000));
      await waitUntil(
        () => logged(serving, 'slow-reader-paused'),
        10_000,
        'the server to stop reading the slow client',
      );
      serving.child.kill('SIGTERM');
      await waitUntil(() => logged(serving, 'shutdown'), 10_000, 'the first SIGTERM to be logged');
      // The exit code below (1: the second SIGTERM's, not 0) shows that this one was still waiting.
      assert.equal(serving.child.exitCode, null, 'the first SIGTERM waits for the unread replies');
      await assert.rejects(
        exchange(serving.port, 'IAMAT late +1+1 1700000000\n', 2000),
        /ECONNREFUSED/,
        'no new connections after SIGTERM',
      );
      const started = Date.now();
      serving.child.kill('SIGTERM');
      const code = await serving.exited;
      assert.ok(Date.now() - started < 2000, `exited ${Date.now() - started} ms after the second SIGTERM`);
      assert.equal(code, 1);
    } finally {
      slow.destroy();
      await stop(serving);
      await rm(serving.dir, { recursive: true, force: true });
    }
  });
});
