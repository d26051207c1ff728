/**
 * Log rotation (docs/deploy.md "Log rotation"): `herd serve` reopens its log file on SIGHUP, so a
 * rotation that renames the file and then signals the server loses no line: what was written before
 * the signal is in the renamed file, and what comes after is in a new file of the original name.
 * `herd start` passes SIGHUP on to every server it runs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, DEFAULT_SERVERS, RunningHerd, exchange, tempHerdConfig, waitUntil } from '../helpers/herd-process.js';

describe('log rotation', { timeout: 30_000 }, () => {
  test('SIGHUP reopens the log file: old lines stay in the renamed file, new ones go to a new file', async () => {
    const { dir, configFile, cleanup } = await tempHerdConfig({ servers: ['Solo'], links: [] });
    const child = spawn(process.execPath, [CLI, 'serve', 'Solo', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`herd serve exited (${code})`)));
        createInterface({ input: child.stdout }).on('line', (line) => {
          const match = /listening on \S+:(\d+)/.exec(line);
          if (match !== null) resolve(Number(match[1]));
        });
      });
      const logFile = path.join(dir, 'logs', 'Solo.log');
      const rotated = `${logFile}.1`;
      const read = (file: string): Promise<string> => readFile(file, 'utf8').catch(() => '');
      assert.match(await exchange(port, 'IAMAT before-rotation +1+1 1700000000\n'), /^AT Solo /);
      await waitUntil(async () => (await read(logFile)).includes('before-rotation'), 5000, 'the first line logged');
      await rename(logFile, rotated);
      child.kill('SIGHUP');
      await waitUntil(async () => (await read(logFile)).includes('"log-reopened"'), 5000, 'a new log file');
      assert.match(await exchange(port, 'IAMAT after-rotation +1+1 1700000000\n'), /^AT Solo /);
      await waitUntil(async () => (await read(logFile)).includes('after-rotation'), 5000, 'the next line logged');
      const old = await read(rotated);
      assert.ok(old.includes('before-rotation') && !old.includes('after-rotation'), old.slice(-400));
      assert.ok(!(await read(logFile)).includes('before-rotation'));
      assert.equal(child.exitCode, null, 'SIGHUP does not stop the server');
    } finally {
      child.kill('SIGTERM');
      await exited;
      await cleanup();
    }
  });

  test('herd start passes SIGHUP on: every server reopens its log, and keeps running', async () => {
    const temp = await tempHerdConfig();
    const herd = await RunningHerd.start(temp.configFile);
    try {
      const read = (file: string): Promise<string> => readFile(file, 'utf8').catch(() => '');
      for (const name of DEFAULT_SERVERS) {
        const logFile = herd.servers.get(name)?.logFile as string;
        await rename(logFile, `${logFile}.1`);
      }
      herd.signal('SIGHUP');
      for (const name of DEFAULT_SERVERS) {
        const logFile = herd.servers.get(name)?.logFile as string;
        await waitUntil(async () => (await read(logFile)).includes('"log-reopened"'), 10_000, `${name}'s new log file`);
        assert.match(await exchange(herd.port(name), `IAMAT after-${name} +1+1 1700000000\n`), /^AT /);
      }
    } finally {
      await herd.stop();
      await temp.cleanup();
    }
  });
});
