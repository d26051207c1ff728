/**
 * `herd start` never gives up on a member (docs/operations.md "Processes"): one that dies again
 * before it listens, here because its client port is taken, is tried again after the restart delay
 * until it is back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RunningHerd, exchange, tempHerdConfig } from '../helpers/herd-process.js';
import { MEMORY_STORE, QUIET_LOG } from '../helpers/herd-config-options.js';

describe('herd start restarting a member', { timeout: 60_000 }, () => {
  test('a restart that fails is tried again after the delay until the member is back', async () => {
    // The supervisor's claim, not the store's; no log line is read (docs/deploy.md "The test bed").
    const temp = await tempHerdConfig({
      servers: ['A', 'B'],
      links: [['A', 'B']],
      extra: { store: MEMORY_STORE, ...QUIET_LOG },
    });
    const herd = await RunningHerd.start(temp.configFile, ['--restart-delay', '300']);
    const blocker = net.createServer();
    try {
      const port = herd.port('A');
      const exited = herd.waitForLine(/^herd: A exited/);
      herd.kill('A');
      await exited;
      // The member's own port, taken by someone else before the restart: the restart fails.
      await new Promise<void>((resolve, reject) => {
        blocker.once('error', reject);
        blocker.listen(port, '127.0.0.1', resolve);
      });
      await herd.waitForLine(/^herd: A did not come back \(.*\); trying again in 300 ms$/);
      await herd.waitForLine(/^herd: A did not come back/);
      const back = herd.waitForLine(/^herd: A is back$/);
      await new Promise((resolve) => blocker.close(resolve));
      await back;
      assert.match(await exchange(port, 'IAMAT c +1+1 1700000000\n'), /^AT A /);
    } finally {
      if (blocker.listening) blocker.close();
      await herd.stop();
      await temp.cleanup();
    }
  });
});
