/**
 * Test bed scenario 2 (issue 12): the herd split 2/3 at the switch (Alford and Hamilton's peer ports
 * moved to another bridge), with updates for the same clients on both sides, then healed. With
 * `store.sync: true` every acknowledged IAMAT is committed, and after the heal every host converges
 * to the newest client time of each client (the merge rule of docs/protocol.md "Floods": a later
 * client time wins; for equal times, the AT line that sorts last), so nothing acknowledged is lost.
 * Runs with both `peer.dissemination` modes.
 */
import { DISSEMINATIONS } from '../../src/peers/link-settings.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/herd-process.js';
import * as kit from './scenario-kit.js';

const SIDE_A = ['Alford', 'Hamilton'];
const SIDE_B = ['Ball', 'Holiday', 'Welsh'];
/** Short detector values: this scenario is about convergence, not the bound on detection. */
const PEER = { heartbeatIntervalMs: 200, deadAfterMs: 1000 };
const CLIENTS = 24;
const ROUNDS = 3;

/** The client time of an AT line (its last field) in nanoseconds. */
function timeNs(atLine: string): bigint {
  const text = atLine.slice(atLine.lastIndexOf(' ') + 1);
  const [seconds = '0', fraction = ''] = text.split('.');
  return BigInt(seconds) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
}

/** The merge rule: is `a` newer than `b`? */
function newer(a: string, b: string): boolean {
  const ta = timeNs(a);
  const tb = timeNs(b);
  return ta !== tb ? ta > tb : a > b;
}

describe('test bed: split 2/3 and heal', { skip: kit.NETNS_SKIP, timeout: 180_000 }, () => {
  for (const dissemination of DISSEMINATIONS) {
    test(`${dissemination}: both sides take updates for the same clients; after the heal every host holds the newest of each`, async (t) => {
      await kit.withBedHerd({ peer: { ...PEER, dissemination }, store: { sync: true } }, async (herd, bed) => {
        await kit.allLinksUp(herd);
        const ids = Array.from({ length: CLIENTS }, (_, i) => `split-${i}`);
        const newest = new Map<string, string>();
        const iamat = async (server: string, clientId: string, time: string): Promise<void> => {
          const reply = (await herd.client(server, `IAMAT ${clientId} +10.5-20.25 ${time}\n`)).trimEnd();
          assert.match(reply, /^AT /, `${server} acknowledged ${clientId}`);
          const held = newest.get(clientId);
          if (held === undefined || newer(reply, held)) newest.set(clientId, reply);
        };
        for (const id of ids) await iamat('Welsh', id, kit.clientTime(-60_000));
        await kit.converge(herd, newest, 10_000, 'the first round everywhere');

        const splitAt = performance.now();
        await bed.split(SIDE_A);
        // The two links across the cut (Alford-Welsh and Hamilton-Holiday) go down on both sides.
        const across: [string, string][] = [
          ['Alford', 'Welsh'],
          ['Welsh', 'Alford'],
          ['Hamilton', 'Holiday'],
          ['Holiday', 'Hamilton'],
        ];
        await waitUntil(
          async () => {
            for (const [from, to] of across) if ((await kit.linkStatus(herd, from, to)) === 'up') return false;
            return true;
          },
          PEER.deadAfterMs + 5000,
          'the links across the split to go down',
        );
        const detectedMs = Math.round(performance.now() - splitAt);

        // Updates for the same clients on both sides, each side newer for half of them, and one client
        // with the very same client time on both sides (the AT line that sorts last wins).
        for (let round = 0; round < ROUNDS; round++) {
          for (const [i, id] of ids.entries()) {
            const aFirst = i % 2 === 0;
            const earlier = kit.clientTime(-30_000 + round * 1000);
            const later = kit.clientTime(-30_000 + round * 1000 + 500);
            const a = SIDE_A[(i + round) % SIDE_A.length] as string;
            const b = SIDE_B[(i + round) % SIDE_B.length] as string;
            await iamat(a, id, aFirst ? later : earlier);
            await iamat(b, id, aFirst ? earlier : later);
          }
        }
        const tie = kit.clientTime(-10_000);
        await iamat('Alford', 'split-tie', tie);
        await iamat('Ball', 'split-tie', tie);
        ids.push('split-tie');

        // Each side agrees with itself and not with the other (a real split).
        const sideView = async (side: readonly string[]): Promise<Map<string, string>> =>
          herd.table(side[0] as string, ids);
        const viewA = await sideView(SIDE_A);
        const viewB = await sideView(SIDE_B);
        assert.ok(
          ids.some((id) => viewA.get(id) !== viewB.get(id)),
          'the two sides hold different updates during the split',
        );
        await waitUntil(
          async () =>
            (await kit.missing(herd, await sideView(SIDE_A), SIDE_A)).size === 0 &&
            (await kit.missing(herd, await sideView(SIDE_B), SIDE_B)).size === 0,
          5000,
          'each side to agree with itself',
        );

        const healAt = performance.now();
        await bed.join();
        const ms = await kit.converge(herd, newest, 20_000, 'every host to hold the newest update of each client');
        kit.report(
          t,
          `split detected ${detectedMs} ms after the cut (deadAfterMs ${PEER.deadAfterMs}); ${ROUNDS * CLIENTS * 2 + 2} updates acknowledged with store.sync during the split; every host holds the newest of all ${ids.length} clients ${Math.round(performance.now() - healAt)} ms after the heal (checker ${ms} ms)`,
        );
        kit.assertWithin(Math.round(performance.now() - healAt), 15_000, 'convergence after the heal');
        assert.equal(
          newest.get('split-tie'),
          [...(await herd.table('Holiday', ['split-tie'])).values()][0],
          'the tie went the same way everywhere',
        );
      });
    });
  }
});
