/**
 * `herd start` stopping a member that does not stop (src/cli/start.ts): a server frozen with
 * SIGSTOP cannot act on SIGTERM, so the supervisor kills it after SERVER_STOP_TIMEOUT_MS and exits.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SERVER_STOP_TIMEOUT_MS } from '../../src/cli/start.js';
import { RunningHerd, processAlive as running, tempHerdConfig } from '../helpers/herd-process.js';

describe('herd start stopping a herd', { timeout: 60_000 }, () => {
  test(`a member that does not exit on SIGTERM is killed after SERVER_STOP_TIMEOUT_MS (${SERVER_STOP_TIMEOUT_MS} ms), and the supervisor exits`, async (t) => {
    const { configFile, cleanup } = await tempHerdConfig({ servers: ['A', 'B'], links: [['A', 'B']] });
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
});
