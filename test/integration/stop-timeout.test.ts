/**
 * `herd start` stopping a member that does not stop (src/cli/start.ts): a server frozen with
 * SIGSTOP cannot act on SIGTERM, so the supervisor kills it after SERVER_STOP_TIMEOUT_MS and exits.
 * And the tests' own helper (test/helpers/herd-process.ts): a start that times out leaves no process.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SERVER_STOP_TIMEOUT_MS } from '../../src/cli/start.js';
import {
  RunningHerd,
  processEnded,
  processAlive as running,
  tempHerdConfig,
  waitUntil,
} from '../helpers/herd-process.js';
import { MEMORY_STORE, QUIET_LOG } from '../helpers/herd-config-options.js';

/** The supervisor's claims, not the store's; no log line is read (docs/deploy.md "The test bed"). */
const TWO_QUIET = { store: MEMORY_STORE, ...QUIET_LOG };

describe('herd start stopping a herd', { timeout: 60_000 }, () => {
  test(`a member that does not exit on SIGTERM is killed after SERVER_STOP_TIMEOUT_MS (${SERVER_STOP_TIMEOUT_MS} ms), and the supervisor exits`, async (t) => {
    const { configFile, cleanup } = await tempHerdConfig({
      servers: ['A', 'B'],
      links: [['A', 'B']],
      extra: TWO_QUIET,
    });
    const herd = await RunningHerd.start(configFile);
    try {
      const frozen = herd.servers.get('A')?.pid ?? -1;
      const other = herd.servers.get('B')?.pid ?? -1;
      process.kill(frozen, 'SIGSTOP');
      const started = performance.now();
      process.kill(herd.supervisorPid, 'SIGTERM');
      await herd.exited;
      const tookMs = Math.round(performance.now() - started);
      t.diagnostic(`the supervisor exited ${tookMs} ms after SIGTERM`);
      assert.ok(tookMs >= SERVER_STOP_TIMEOUT_MS - 50, `it waited for the frozen member (${tookMs} ms)`);
      assert.ok(tookMs < SERVER_STOP_TIMEOUT_MS + 5000, `then stopped waiting (${tookMs} ms)`);
      assert.equal(running(frozen), false, 'the frozen member was killed');
      assert.equal(running(other), false, 'the other member stopped');
    } finally {
      await herd.stop();
      await cleanup();
    }
  });

  test('a RunningHerd start that times out ends the servers the supervisor started and had not named yet', async () => {
    const { dir, configFile, cleanup } = await tempHerdConfig({
      servers: ['A', 'B'],
      links: [['A', 'B']],
      extra: TWO_QUIET,
    });
    // Loaded by the supervisor and each server (NODE_OPTIONS): a server says its pid, then never listens.
    const hang = path.join(dir, 'hang.mjs');
    await writeFile(
      hang,
      "if (process.argv.includes('serve')) { console.log(`hang: ${process.pid}`); setInterval(() => {}, 60_000); await new Promise(() => {}); }\n",
    );
    const env = {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(hang).href}`,
    };
    const herd = RunningHerd.launch(configFile, [], env);
    let pids: number[] = [];
    try {
      const said = (): number[] => herd.output.flatMap((line) => /^hang: (\d+)$/.exec(line)?.[1] ?? []).map(Number);
      pids = await waitUntil(() => (said().length === 2 ? said() : undefined), 20_000, 'both servers to start');
      // Both servers are started and do not listen (the supervisor would end them after
      // its SERVER_START_TIMEOUT_MS, src/cli/start.ts): the start times out.
      await assert.rejects(herd.untilUp(1), /herd did not start/);
      assert.ok(processEnded(herd.supervisorPid), 'the supervisor ended');
      for (const pid of pids) await waitUntil(() => processEnded(pid), 5000, `server ${pid} to end`);
    } finally {
      await herd.stop();
      for (const pid of pids.filter(running)) process.kill(pid, 'SIGKILL');
      await cleanup();
    }
  });
});
