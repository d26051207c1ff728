/**
 * Test bed scenario 4 (issue 12): Hamilton's wall clock runs 30 s ahead and Holiday's 30 s behind
 * (libfaketime, `LD_PRELOAD` in their namespaces; their monotonic clocks, which timers use, are left
 * alone). The AT time differences they write show the skew, which is expected (docs/protocol.md
 * "IAMAT": the server's receive time minus the client's). Convergence, which goes by client time
 * only, is unaffected. A client time within `limits.maxFutureSkewMs` of a skewed server's own clock
 * is accepted there, and one beyond it is refused there, wherever the other clocks are.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/herd-process.js';
import { faketimeLibrary } from './bed-herd.js';
import { MEMORY_STORE, NETNS_SKIP, allLinksUp, clientTime, converge, report, withBedHerd } from './scenario-kit.js';

const AHEAD = 'Hamilton';
const BEHIND = 'Holiday';
const SKEW_S = 30;
/** A small future-skew limit, so that "within" and "beyond" are a few tens of seconds apart. */
const MAX_FUTURE_SKEW_MS = 60_000;

const skip =
  NETNS_SKIP ?? (faketimeLibrary() === undefined ? 'libfaketime not found (apt-get install faketime)' : undefined);

/** The time difference (seconds) of an AT reply. */
function difference(atLine: string): number {
  return Number(atLine.split(' ')[2]);
}

describe('test bed: servers with skewed clocks', { skip, timeout: 90_000 }, () => {
  test('AT differences show the skew; convergence by client time is unaffected; the future limit is each server’s own', async (t) => {
    await withBedHerd(
      {
        peer: { heartbeatIntervalMs: 200, deadAfterMs: 1000 },
        limits: { maxFutureSkewMs: MAX_FUTURE_SKEW_MS },
        store: MEMORY_STORE,
        clockOffsets: { [AHEAD]: `+${SKEW_S}s`, [BEHIND]: `-${SKEW_S}s` },
      },
      async (herd) => {
        await allLinksUp(herd);
        // The differences: about +30 s ahead, -30 s behind, about 0 on a true clock.
        const differences = new Map<string, number>();
        for (const name of [AHEAD, BEHIND, 'Alford']) {
          const reply = (await herd.client(name, `IAMAT skew-${name} +1+1 ${clientTime()}\n`)).trimEnd();
          assert.match(reply, /^AT /);
          differences.set(name, difference(reply));
        }
        assert.ok(Math.abs((differences.get(AHEAD) as number) - SKEW_S) < 2, `ahead: ${differences.get(AHEAD)}`);
        assert.ok(Math.abs((differences.get(BEHIND) as number) + SKEW_S) < 2, `behind: ${differences.get(BEHIND)}`);
        assert.ok(Math.abs(differences.get('Alford') as number) < 2, `true: ${differences.get('Alford')}`);

        // Convergence goes by client time: the newer client time wins on every server, though it
        // reached the server that is behind, and the older one the server that is ahead.
        const newer = (await herd.client(BEHIND, `IAMAT skew-race +2+2 ${clientTime(5000)}\n`)).trimEnd();
        const older = (await herd.client(AHEAD, `IAMAT skew-race +3+3 ${clientTime(1000)}\n`)).trimEnd();
        assert.match(older, /^AT /);
        const ms = await converge(herd, new Map([['skew-race', newer]]), 10_000, 'the newer client time everywhere');

        // maxFutureSkewMs is judged against the receiving server's own clock.
        const verdicts: string[] = [];
        const cases: [server: string, aheadOfTrueMs: number, accepted: boolean][] = [
          [BEHIND, 25_000, true], // 55 s ahead of Holiday's clock
          [BEHIND, 35_000, false], // 65 s ahead of it
          ['Alford', 55_000, true],
          ['Alford', 65_000, false],
          [AHEAD, 85_000, true], // 55 s ahead of Hamilton's clock
          [AHEAD, 95_000, false],
        ];
        for (const [server, aheadMs, accepted] of cases) {
          const reply = (
            await herd.client(server, `IAMAT future-${server}-${aheadMs} +4+4 ${clientTime(aheadMs)}\n`)
          ).trimEnd();
          assert.equal(reply.startsWith('AT '), accepted, `${server}, client time ${aheadMs} ms ahead: ${reply}`);
          verdicts.push(`${server} +${aheadMs / 1000} s: ${accepted ? 'AT' : '?'}`);
        }
        // Logs are written in batches at least every 100 ms.
        await waitUntil(
          async () => (await herd.logEvents(BEHIND)).some((entry) => entry.outcome === 'clock_skew'),
          2000,
          'the refusal to be logged as clock_skew',
        );
        report(
          t,
          `AT differences: ${[...differences].map(([name, d]) => `${name} ${d >= 0 ? '+' : ''}${d.toFixed(3)} s`).join(', ')}; newest client time everywhere ${ms} ms after the second IAMAT; future limit ${MAX_FUTURE_SKEW_MS / 1000} s by each clock: ${verdicts.join(', ')}`,
        );
      },
    );
  });
});
