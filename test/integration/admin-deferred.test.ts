/**
 * What a server does not need to accept comes after it listens (src/cli/serve-admin.ts), and every
 * guarantee stays: an admin port in use still stops `herd serve` before anything listens; under
 * `herd start` each admin server loads once every server listens, and a request sent before that is
 * answered, not refused; the links of a herd's first start are dialled once every server listens;
 * a check-in acknowledged while the store's writer thread has not been started yet is on disk.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { JOIN_ENV, isListeningMessage, type ListeningMessage } from '../../src/cli/ipc.js';
import { CLI, RunningHerd, exchange, tempHerdConfig } from '../helpers/herd-process.js';
import { runCli } from '../helpers/cli.js';
import { restartablePort } from '../helpers/loopback.js';

/** An event of a server's JSON log. */
type LogEvent = { event?: string; time: number; link?: string; to?: string };

/** The events of a server's JSON log, in order (a last line still being written is left out). */
async function logEvents(file: string): Promise<LogEvent[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as LogEvent);
}

describe('the admin parts and the writer thread after listening', { timeout: 90_000 }, () => {
  test('an admin port in use stops herd serve before its client port listens (exit 1)', async () => {
    const held = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const adminPort = (held.address() as net.AddressInfo).port;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-admin-taken-'));
    try {
      const configFile = path.join(dir, 'herd.json');
      const port = await restartablePort();
      await writeFile(
        configFile,
        JSON.stringify({
          servers: [{ name: 'Zed', port, peerPort: 0, adminPort }],
          logDir: path.join(dir, 'logs'),
          dataDir: path.join(dir, 'data'),
        }),
      );
      const result = await runCli(['serve', 'Zed', '--config', configFile]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^herd: Zed: admin port 127\\.0\\.0\\.1:${adminPort} is already in use`));
      const events = await logEvents(path.join(dir, 'logs', 'Zed.log'));
      assert.ok(events.some((event) => event.event === 'start-failed'));
      assert.ok(!events.some((event) => event.event === 'listening'), 'the client port never listened');
    } finally {
      await new Promise((resolve) => held.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });

  // One herd of five with admin ports for both claims of `herd start` (five server starts fewer than
  // a herd each); the admin test runs first, its requests sent the moment the herd is up.
  describe('one herd of five, admin ports on', () => {
    let temp: Awaited<ReturnType<typeof tempHerdConfig>> | undefined;
    let herd: RunningHerd | undefined;
    before(async () => {
      temp = await tempHerdConfig({ admin: true });
      herd = await RunningHerd.start(temp.configFile);
    });
    after(async () => {
      await herd?.stop();
      await temp?.cleanup();
    });

    test('under herd start, each admin server loads once every server listens, and a request sent before it is answered', async () => {
      assert.ok(herd !== undefined);
      // Sent the moment the herd is up: the admin servers may still be loading, so each waits.
      const answers = await Promise.all(
        [...herd.servers.values()].map(async (server) => {
          const response = await fetch(`${server.adminUrl}/healthz`);
          return [response.status, await response.text()] as const;
        }),
      );
      for (const [status, text] of answers) assert.deepEqual([status, text.trim()], [200, 'ok']);
      const metrics = await (await fetch(`${herd.servers.get('Alford')?.adminUrl}/metrics`)).text();
      assert.match(metrics, /^herd_/m);
      const logs = await Promise.all([...herd.servers.values()].map((server) => logEvents(server.logFile)));
      const lastListening = Math.max(...logs.map((events) => events.find((e) => e.event === 'listening')?.time ?? NaN));
      for (const events of logs) {
        const admin = events.find((event) => event.event === 'admin-listening');
        assert.ok(admin !== undefined && admin.time >= lastListening, 'the admin server came after the herd listened');
      }
    });

    test('under herd start, the links are dialled once every server listens, and then all come up', async () => {
      assert.ok(herd !== undefined);
      const servers = [...herd.servers.values()];
      const linksOut = (events: LogEvent[]): LogEvent[] =>
        events.filter((e) => e.event === 'link-status' && e.link === 'out' && e.to === 'up');
      // Until every server has a link out up (the herd's links have at least one per server).
      let logs: LogEvent[][];
      for (const deadline = Date.now() + 20_000; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
        logs = await Promise.all(servers.map((server) => logEvents(server.logFile)));
        if (logs.every((events) => linksOut(events).length > 0)) break;
        assert.ok(Date.now() < deadline, 'every server linked out within 20 s');
      }
      const lastListening = Math.max(...logs.map((events) => events.find((e) => e.event === 'listening')?.time ?? NaN));
      for (const events of logs)
        for (const up of linksOut(events))
          assert.ok(up.time >= lastListening, 'no link came up before the herd listened');
    });
  });

  test('a check-in acknowledged before the writer thread was started (the herd not yet all up) is on disk', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-writer-deferred-'));
    const configFile = path.join(dir, 'herd.json');
    const port = await restartablePort();
    await writeFile(
      configFile,
      JSON.stringify({
        // Other is never started: no peers message names every server, so Solo defers its writer.
        servers: [
          { name: 'Solo', port, peerPort: 0, adminPort: 0 },
          { name: 'Other', port: await restartablePort(), peerPort: await restartablePort() },
        ],
        links: [['Solo', 'Other']],
        logDir: path.join(dir, 'logs'),
        dataDir: path.join(dir, 'data'),
        store: { sync: true },
      }),
    );
    // Forked with an IPC channel, as herd start forks it; this test plays the supervisor.
    const child = fork(CLI, ['serve', 'Solo', '--config', configFile], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, [JOIN_ENV]: '0' },
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const listening = await new Promise<ListeningMessage>((resolve) =>
        child.on('message', (message) => {
          if (isListeningMessage(message)) resolve(message);
        }),
      );
      assert.match(listening.adminUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, 'the admin port was bound at listening');
      const now = (Date.now() / 1000).toFixed(9);
      // store.sync: the AT comes only once its commit is on disk.
      const reply = await exchange(port, `IAMAT early-bird +34.068930-118.445127 ${now}\n`);
      assert.match(reply, /^AT Solo /);
      child.kill('SIGKILL');
      await exited;
      const db = new Database(path.join(dir, 'data', 'Solo.sqlite'), { readonly: true });
      try {
        const row = db.prepare('SELECT at_line FROM locations WHERE client_id = ?').get('early-bird') as
          { at_line: string } | undefined;
        assert.equal(row?.at_line, reply.trim());
      } finally {
        db.close();
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
