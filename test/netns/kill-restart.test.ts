/**
 * Test bed scenario 5 (issue 12): Ball is SIGKILLed while IAMATs flow, the others take more updates
 * while it is gone, and it is restarted in its own namespace on its own addresses. Its neighbours'
 * queues for it are small here (`peer.maxQueuedUpdates` 10), so they overflow while it is down and
 * what it missed must come by anti-entropy: its log shows the exchanges that brought it, and it then
 * holds every acknowledged update.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/herd-process.js';
import { HOSTS, NETNS_SKIP, Traffic, converge, report, withBedHerd } from './scenario-kit.js';

const VICTIM = 'Ball';
const DOWN_FOR_MS = 3000;
const MAX_QUEUED = 10;

describe('test bed: a host SIGKILLed and restarted', { skip: NETNS_SKIP, timeout: 90_000 }, () => {
  test('it catches up by anti-entropy on its own address', async (t) => {
    await withBedHerd(
      { peer: { heartbeatIntervalMs: 200, deadAfterMs: 1000, maxQueuedUpdates: MAX_QUEUED } },
      async (herd) => {
        await waitUntil(
          async () => (await herd.status(VICTIM)).links.every((row) => row.status === 'up' && row.inbound),
          15_000,
          `${VICTIM}'s links up`,
        );
        let targets: readonly string[] = HOSTS;
        const traffic = new Traffic(herd, { prefix: 'kr', everyMs: 25, targets: () => targets });
        let missedByVictim: number;
        let restartedAt: number;
        try {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          targets = HOSTS.filter((name) => name !== VICTIM);
          // Let an IAMAT already on its way to the victim finish before it is killed.
          await new Promise((resolve) => setTimeout(resolve, 100));
          const pid = herd.servers.get(VICTIM)?.pid;
          await herd.kill(VICTIM, 'SIGKILL');
          const killedAt = performance.now();
          const ackedAtKill = traffic.acked.length;
          await new Promise((resolve) => setTimeout(resolve, DOWN_FOR_MS));
          missedByVictim = traffic.acked.length - ackedAtKill;
          const server = await herd.startServer(VICTIM);
          restartedAt = performance.now();
          assert.notEqual(server.pid, pid);
          report(t, `${VICTIM} down ${Math.round(restartedAt - killedAt)} ms (SIGKILL to listening again)`);
        } finally {
          await traffic.stop();
        }
        const expected = new Map(traffic.acked.map((acked) => [acked.clientId, acked.atLine] as const));
        await converge(herd, expected, 15_000, `${VICTIM} and everyone to hold every acknowledged update`);
        const caughtUpMs = Math.round(performance.now() - restartedAt);
        // The exchanges that refilled it, from its new process's log.
        const newPid = herd.servers.get(VICTIM)?.pid;
        await herd.logsWritten(VICTIM);
        const done = (await herd.logEvents(VICTIM)).filter(
          (entry) => entry.event === 'anti-entropy-done' && entry.pid === newPid,
        );
        const stored = done.reduce((sum, entry) => sum + ((entry.stored as number | undefined) ?? 0), 0);
        // Two neighbours each kept at most MAX_QUEUED of them in their queues; the rest is anti-entropy's.
        const viaQueues = 2 * MAX_QUEUED;
        assert.ok(
          stored >= missedByVictim - viaQueues,
          `anti-entropy stored ${stored} of the ${missedByVictim} it missed`,
        );
        const overflows = (await herd.logEvents('Welsh')).filter((entry) => entry.event === 'queue-overflow').length;
        assert.ok(overflows >= 1, 'the queue for it overflowed while it was down');
        const status = await herd.status(VICTIM);
        assert.ok(
          status.links.every((row) => row.status === 'up'),
          JSON.stringify(status.links),
        );
        report(
          t,
          `${missedByVictim} updates made while it was down; it held all ${expected.size} ${caughtUpMs} ms after listening; anti-entropy with ${done.length} neighbours stored ${stored} records`,
        );
        assert.deepEqual(traffic.failed, [], 'every IAMAT was acknowledged');
      },
    );
  });
});
