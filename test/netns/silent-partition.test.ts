/**
 * Test bed scenario 1 (issue 12): a silent partition of one host while traffic flows. Welsh's
 * private interface goes down inside its namespace, so its neighbours (Alford and Ball in the ring)
 * get no RST and no FIN. With the default failure detector (heartbeat 1 s, dead after 5 s) they must
 * report their links to Welsh down (each side's `link-timeout` log line) within deadAfterMs + 1 s of the
 * cut (counted from the end of the `ip` command that makes it);
 * updates keep flowing round the other way; after the heal, every update acknowledged during the
 * partition (on either side) is on every host within 5 s.
 * Runs with both `peer.dissemination` modes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LINK_SETTINGS, DISSEMINATIONS } from '../../src/peers/link-settings.js';
import { waitUntil } from '../helpers/herd-process.js';
import * as kit from './scenario-kit.js';

const CUT = 'Welsh';
const NEIGHBOURS = ['Alford', 'Ball'];
const { heartbeatIntervalMs, deadAfterMs } = DEFAULT_LINK_SETTINGS;
const HEAL_CONVERGENCE_BOUND_MS = 5000;

describe('test bed: silent partition of one host', { skip: kit.NETNS_SKIP, timeout: 180_000 }, () => {
  for (const dissemination of DISSEMINATIONS) {
    test(`${dissemination}: its neighbours report the link down within deadAfterMs + 1 s, and after the heal all is everywhere within 5 s`, async (t) => {
      // The product's defaults, written out: this scenario shows the bound holds with them.
      await kit.withBedHerd(
        { peer: { heartbeatIntervalMs, deadAfterMs, dissemination }, store: kit.MEMORY_STORE },
        async (herd, bed) => {
          await kit.allLinksUp(herd);
          const traffic = new kit.Traffic(herd, { prefix: 'sp', everyMs: 40, targets: () => kit.HOSTS });
          try {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            const cutAt = performance.now();
            const cutWallMs = Date.now();
            await bed.cut(CUT);
            // The cut is in force somewhere between these two stamps: `ip` takes its time on a loaded box,
            // and bytes written before it is in force still arrive. Bounds count from its end.
            const cutDoneWallMs = Date.now();
            const ackedBeforeCut = traffic.acked.length;

            // Detection, by the servers' own reports: each neighbour's `link-timeout` log lines for Welsh, one
            // for its outgoing link and one for the link Welsh dialled, stamped when it declared the link dead
            // and carrying the silence it measured from the last byte received. Waiting on the log (read as it
            // grows) rather than polling `/status` spares the herd a status request every 25 ms.
            for (const name of NEIGHBOURS) {
              const timeouts = await waitUntil(
                async () => {
                  const entries = (await herd.logEvents(name)).filter(
                    (entry) =>
                      entry.event === 'link-timeout' && entry.peer === CUT && (entry.time as number) >= cutWallMs,
                  );
                  const out = entries.find((entry) => entry.link === 'out');
                  const inbound = entries.find((entry) => entry.link === 'in');
                  return out && inbound ? { out, in: inbound } : undefined;
                },
                deadAfterMs + 5000,
                `${name}'s link-timeout lines for ${CUT}`,
              );
              const outMs = (timeouts.out.time as number) - cutDoneWallMs;
              const inMs = (timeouts.in.time as number) - cutDoneWallMs;
              const seenMs = Math.round(performance.now() - cutAt);
              kit.report(
                t,
                `cut took ${cutDoneWallMs - cutWallMs} ms; ${name} -> ${CUT} declared dead ${outMs} ms after it (silent ${String(timeouts.out.silentMs)} ms); ${CUT} -> ${name} declared dead ${inMs} ms after it (silent ${String(timeouts.in.silentMs)} ms); both lines read ${seenMs} ms after the cut began`,
              );
              kit.assertWithin(outMs, deadAfterMs + 1000, `${name}'s link to ${CUT} declared dead after the cut`);
              kit.assertWithin(inMs, deadAfterMs + 1000, `${CUT}'s link to ${name} declared dead after the cut`);
              kit.assertWithin(
                timeouts.out.silentMs as number,
                deadAfterMs + 1000,
                `${name}'s link to ${CUT}: silence at death`,
              );
              kit.assertWithin(
                timeouts.in.silentMs as number,
                deadAfterMs + 1000,
                `${CUT}'s link to ${name}: silence at death`,
              );
              // Its status says so too: the link to Welsh is not up, the one from it is gone, the timeout counted.
              const row = await waitUntil(
                async () => {
                  const link = (await herd.status(name)).links.find((candidate) => candidate.peer === CUT);
                  return link?.status !== 'up' && link?.inbound === false ? link : undefined;
                },
                2000,
                `${name}'s status to show its links with ${CUT} down`,
              );
              assert.ok(row.timeouts >= 1, `${name} counts the timeout: ${JSON.stringify(row)}`);
            }
            // The transition is logged with its reason (logs are written in batches at least every 100 ms).
            const down = await waitUntil(
              async () =>
                (await herd.logEvents('Alford')).find(
                  (entry) =>
                    entry.event === 'link-status' && entry.link === 'out' && entry.peer === CUT && entry.from === 'up',
                ),
              2000,
              `Alford's link-status line for ${CUT}`,
            );
            assert.equal(down.reason, `no data for ${deadAfterMs} ms`, JSON.stringify(down));
            const metrics = await herd.metrics('Alford');
            assert.match(
              metrics,
              new RegExp(`herd_link_timeouts_total\\{[^}]*peer="${CUT}"[^}]*link="out"[^}]*\\} [1-9]`),
            );

            // Meanwhile updates go round the other way: the four others agree on everything they acknowledged.
            await new Promise((resolve) => setTimeout(resolve, 1000));
            const others = kit.HOSTS.filter((name) => name !== CUT);
            const madeElsewhere = new Map(
              traffic.acked.filter((a) => a.server !== CUT).map((a) => [a.clientId, a.atLine] as const),
            );
            await waitUntil(
              async () => (await kit.missing(herd, madeElsewhere, others)).size === 0,
              5000,
              'the four connected servers to share every update made on them',
            );
            assert.equal(await kit.linkStatus(herd, 'Alford', CUT).then((s) => s === 'up'), false, 'still cut');

            const healAt = performance.now();
            await traffic.stop();
            const duringPartition = traffic.acked.length - ackedBeforeCut;
            await bed.heal(CUT);
            const expected = new Map(traffic.acked.map((a) => [a.clientId, a.atLine] as const));
            const ms = await kit.converge(herd, expected, 15_000, 'every update on every host after the heal');
            const sinceHeal = Math.round(performance.now() - healAt);
            kit.report(
              t,
              `${duringPartition} updates acknowledged during the ${Math.round(healAt - cutAt)} ms partition (${traffic.acked.filter((a) => a.server === CUT && a.atMs > cutAt).length} of them on ${CUT}); all ${expected.size} on every host ${sinceHeal} ms after the heal (checker ${ms} ms)`,
            );
            kit.assertWithin(sinceHeal, HEAL_CONVERGENCE_BOUND_MS, 'convergence after the heal');
            assert.deepEqual(traffic.failed, [], 'every IAMAT was acknowledged');
          } finally {
            await traffic.stop();
          }
        },
      );
    });
  }
});
