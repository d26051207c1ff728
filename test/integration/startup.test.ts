/**
 * Accepting means answering (issue "The hot path at the limit"): an IAMAT sent the instant a freshly
 * started `herd serve` accepts connections is stamped on time (nothing blocks the event loop once
 * the port accepts), and the WHATSAT right behind it is answered from the places data at once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connectTheInstantItAccepts, restartablePort } from '../helpers/loopback.js';
import { CLI, waitUntil } from '../helpers/herd-process.js';
import { formatPosixTime } from '../../src/protocol/time.js';

/** Generous: this is correctness (the stamp is not late by a blocked loop), not speed. */
const MAX_DIFFERENCE_MS = 250;

describe('start-up', { timeout: 60_000 }, () => {
  test('an IAMAT sent the instant the port accepts gets a correct time difference, and a WHATSAT its places', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-startup-'));
    // Below the ephemeral range: the server process binds it a second or more from now, and in the
    // meantime another test's connections may take any ephemeral port (process-limits opens 16,000).
    const port = await restartablePort();
    const configFile = path.join(dir, 'herd.json');
    await writeFile(
      configFile,
      JSON.stringify({
        servers: [{ name: 'Solo', host: '127.0.0.1', port, peerPort: await restartablePort() }],
        logDir: path.join(dir, 'logs'),
        dataDir: path.join(dir, 'data'),
      }),
    );
    const child = spawn(process.execPath, [CLI, 'serve', 'Solo', '--config', configFile], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const socket = await connectTheInstantItAccepts(port, 20_000);
      const sentNs = BigInt(Date.now()) * 1_000_000n;
      const time = formatPosixTime(sentNs);
      const reply = await new Promise<string>((resolve, reject) => {
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
        socket.end(`IAMAT first +34.068930-118.445127 ${time}\nWHATSAT first 10 5\n`);
      });
      const [at, ...rest] = reply.split('\n');
      const fields = (at ?? '').split(' ');
      assert.equal(fields[0], 'AT', reply);
      const differenceMs = Number(fields[2]) * 1000;
      assert.ok(
        Math.abs(differenceMs) < MAX_DIFFERENCE_MS,
        `time difference ${fields[2]} s: the IAMAT was stamped late (the loop was blocked after accepting)`,
      );
      console.log(`# IAMAT at the first accept: time difference ${differenceMs.toFixed(3)} ms`);
      const whatsat = rest.join('\n');
      assert.ok(whatsat.startsWith(`${at}\n{`), 'the WHATSAT answers with the stored AT line');
      assert.match(whatsat, /"status" : "OK"/);
      // The server reports how long its loop was ever blocked after listening.
      const logFile = path.join(dir, 'logs', 'Solo.log');
      const event = await waitUntil(
        async () =>
          (await readFile(logFile, 'utf8').catch(() => ''))
            .split('\n')
            .find((line) => line.includes('"event":"startup-delay"')),
        10_000,
        'the startup-delay log event',
      );
      assert.equal(typeof (JSON.parse(event) as { maxMs?: unknown }).maxMs, 'number');
    } finally {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
