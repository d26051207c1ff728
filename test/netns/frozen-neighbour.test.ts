/**
 * Test bed scenario 6: a frozen neighbour. Ball is stopped with SIGSTOP for 10 s while IAMATs flow:
 * its process holds its sockets but answers nothing, as a server stuck in swap or paused by a
 * debugger would. Its neighbours (Welsh and Holiday in the ring) must declare it dead within
 * `peer.deadAfterMs` of the stop and route around it; clients that write to it meanwhile wait. After
 * SIGCONT it answers its backlog in order, rejoins, and every update acknowledged anywhere is on every
 * host within 2 s.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { waitUntil } from '../helpers/herd-process.js';
import { BED_CLIENT_PORT } from './bed-herd.js';
import * as kit from './scenario-kit.js';

const VICTIM = 'Ball';
const NEIGHBOURS = ['Welsh', 'Holiday'];
const FROZEN_MS = 10_000;
const { heartbeatIntervalMs, deadAfterMs } = DEFAULT_LINK_SETTINGS;
/** Slack for the detector's timer on a loaded machine. */
const TIMER_SLACK_MS = 250;
const THAW_CONVERGENCE_BOUND_MS = 2000;
/** Clients that write to the frozen server, and the lines each sends. */
const BACKLOG_CLIENTS = 3;

describe('test bed: a neighbour frozen with SIGSTOP', { skip: kit.NETNS_SKIP, timeout: 120_000 }, () => {
  test('declared dead within deadAfterMs and routed around; after SIGCONT its backlog is answered in order and the herd converges within 2 s', async (t) => {
    await kit.withBedHerd({ peer: { heartbeatIntervalMs, deadAfterMs }, store: kit.MEMORY_STORE }, async (herd) => {
      await kit.allLinksUp(herd);
      let targets: readonly string[] = kit.HOSTS;
      const traffic = new kit.Traffic(herd, { prefix: 'fz', everyMs: 40, targets: () => targets });
      const victim = herd.servers.get(VICTIM);
      assert.ok(victim !== undefined);
      let backlog: Promise<string>[] | undefined;
      let thawedAt: number | undefined;
      try {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        targets = kit.HOSTS.filter((name) => name !== VICTIM);
        // Let an IAMAT already on its way to the victim finish before it freezes.
        await new Promise((resolve) => setTimeout(resolve, 100));
        victim.process.kill('SIGSTOP');
        const stoppedAt = Date.now();
        const stoppedAtMs = performance.now();

        // Clients that reach it now are accepted by its kernel and wait for its process.
        backlog = Array.from({ length: BACKLOG_CLIENTS }, (_, k) =>
          herd.agent.exchange(
            herd.bed.host(VICTIM).clientAddress,
            BED_CLIENT_PORT,
            `IAMAT bl-${k}-a +34.068930-118.445127 ${kit.clientTime()}\nWHATSAT bl-${k}-a 10 1\nIAMAT bl-${k}-b +34.1-118.4 ${kit.clientTime()}\n`,
            FROZEN_MS + 20_000,
          ),
        );

        // Declared dead: each neighbour's link to it goes down, as its log says, within deadAfterMs.
        for (const name of NEIGHBOURS) {
          const down = await waitUntil(
            async () =>
              (await herd.logEvents(name)).find(
                (entry) =>
                  entry.event === 'link-status' &&
                  entry.link === 'out' &&
                  entry.peer === VICTIM &&
                  entry.from === 'up' &&
                  (entry.time as number) > stoppedAt,
              ),
            deadAfterMs + 5000,
            `${name} to declare ${VICTIM} dead`,
          );
          const afterMs = (down.time as number) - stoppedAt;
          kit.report(t, `${name} declared ${VICTIM} dead ${afterMs} ms after SIGSTOP (${String(down.reason)})`);
          kit.assertWithin(afterMs, deadAfterMs + TIMER_SLACK_MS, `${name}'s link to the frozen ${VICTIM} down`);
          assert.equal(down.reason, `no data for ${deadAfterMs} ms`);
        }

        // Routed around: the four others share every update made on them while it is frozen.
        const others = kit.HOSTS.filter((name) => name !== VICTIM);
        await waitUntil(
          async () => {
            const made = new Map(traffic.acked.map((a) => [a.clientId, a.atLine] as const));
            return (await kit.missing(herd, made, others)).size === 0;
          },
          5000,
          'the four others to share every update made on them',
        );
        const frozenFor = FROZEN_MS - (performance.now() - stoppedAtMs);
        if (frozenFor > 0) await new Promise((resolve) => setTimeout(resolve, frozenFor));
        await traffic.stop();
        victim.process.kill('SIGCONT');
        thawedAt = performance.now();
        kit.report(t, `${VICTIM} frozen ${Math.round(thawedAt - stoppedAtMs)} ms`);
      } finally {
        await traffic.stop();
        victim.process.kill('SIGCONT');
      }

      // Its backlog, answered in order: AT, then the WHATSAT's AT line and places, then AT.
      const expected = new Map(traffic.acked.map((a) => [a.clientId, a.atLine] as const));
      assert.ok(backlog !== undefined && thawedAt !== undefined);
      const replies = await Promise.all(backlog);
      replies.forEach((reply, k) => {
        const lines = reply.split('\n');
        assert.match(lines[0] ?? '', new RegExp(`^AT ${VICTIM} \\S+ bl-${k}-a `), reply);
        assert.equal(lines[1], lines[0], `the WHATSAT answers with the AT line just stored: ${reply}`);
        assert.equal(lines[2], '{');
        const last = lines.filter((line) => line.startsWith('AT ')).at(-1) ?? '';
        assert.match(last, new RegExp(`^AT ${VICTIM} \\S+ bl-${k}-b `), reply);
        expected.set(`bl-${k}-a`, lines[0] as string);
        expected.set(`bl-${k}-b`, last);
      });
      await kit.converge(herd, expected, 15_000, 'every acknowledged update on every host after the thaw');
      const sinceThaw = Math.round(performance.now() - thawedAt);
      kit.report(t, `all ${expected.size} acknowledged updates on every host ${sinceThaw} ms after SIGCONT`);
      kit.assertWithin(sinceThaw, THAW_CONVERGENCE_BOUND_MS, 'convergence after the thaw');
      await waitUntil(
        async () => (await herd.status(VICTIM)).links.every((row) => row.status === 'up' && row.inbound),
        5000,
        `${VICTIM}'s links up again`,
      );
      assert.deepEqual(traffic.failed, [], 'every IAMAT at the others was acknowledged');
    });
  });
});
