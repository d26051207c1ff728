/**
 * Nothing lost (docs/operations.md guarantees): convergence over real processes while servers are
 * SIGKILLed and restarted on a seeded schedule. With `store.sync`, as that guarantee needs under
 * SIGKILL: a flood written just before the kill can be dropped by the neighbour's kernel when the
 * connection is reset, so only an update on disk before its `AT` is sure to come back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertConverged, fastPeers, type Expected } from '../helpers/convergence.js';
import { DISSEMINATIONS, type Dissemination } from '../../src/peers/link-settings.js';
import {
  DEFAULT_SERVERS,
  RunningHerd,
  exchange,
  seededRandom,
  tempHerdConfig,
  waitUntil,
} from '../helpers/herd-process.js';
import { QUIET_LOG } from '../helpers/herd-config-options.js';

/** The seeds, taking turns between the dissemination modes. */
const SEEDS = [1, 2, 3];

describe('convergence under faults', { timeout: 400_000 }, () => {
  for (const dissemination of DISSEMINATIONS) {
    const seeds = SEEDS.filter((seed) => DISSEMINATIONS[seed % DISSEMINATIONS.length] === dissemination);
    // One herd for the seeds of a mode, one after the other: each seed's check-ins are its own
    // clients, and each seed ends with every server up and its clients converged.
    describe(`${dissemination}, one herd for seeds ${seeds.join(' and ')}`, () => {
      let herd: RunningHerd | undefined;
      let cleanup = async (): Promise<void> => undefined;
      before(async () => {
        // The durable store with sync is the claim; no log line is read: quiet logs.
        const temp = await tempHerdConfig({
          extra: { peer: fastPeers(dissemination), store: { sync: true }, ...QUIET_LOG },
        });
        cleanup = temp.cleanup;
        herd = await RunningHerd.start(temp.configFile, ['--restart-delay', '300']);
      });
      after(async () => {
        await herd?.stop();
        await cleanup();
      });
      for (const seed of seeds) seedTest(seed, dissemination, () => herd);
    });
  }
});

/**
 * Seed `seed`'s test: check-ins at random servers for 6 s while servers are SIGKILLed on the
 * seed's schedule, then every server up and every client's newest update on each.
 */
function seedTest(seed: number, dissemination: Dissemination, herdOf: () => RunningHerd | undefined): void {
  test(`seed ${seed}, ${dissemination}: updates to random servers while servers are SIGKILLed and restarted; all end equal`, async () => {
    const herd = herdOf();
    assert.ok(herd !== undefined, 'the herd started');
    const random = seededRandom(seed);
    const clients = Array.from({ length: 60 }, (_, i) => `conv-${seed}-${i}`);
    const expected: Expected = new Map();
    let clock = 1_700_000_000;
    const deadline = Date.now() + 6000;
    let nextKill = Date.now() + 500 + random() * 1000;
    let kills = 0;
    while (Date.now() < deadline) {
      if (Date.now() >= nextKill) {
        const victim = DEFAULT_SERVERS[Math.floor(random() * DEFAULT_SERVERS.length)] as string;
        try {
          herd.kill(victim);
          kills++;
        } catch {
          // Already down and not yet restarted.
        }
        nextKill = Date.now() + 700 + random() * 1000;
      }
      // A batch of updates; each is retried at other servers until one acknowledges it, as a
      // mobile client would.
      const batch = Array.from({ length: 5 }, () => {
        const id = clients[Math.floor(random() * clients.length)] as string;
        const location = `${random() < 0.5 ? '+' : '-'}${(random() * 89).toFixed(4)}${random() < 0.5 ? '+' : '-'}${(random() * 179).toFixed(4)}`;
        // Times usually increase but sometimes go back: stale updates must never win.
        clock += random() < 0.8 ? 1 : -3;
        return { id, location, time: `${clock}.${String(Math.floor(random() * 1e9)).padStart(9, '0')}` };
      });
      for (const update of batch) {
        let acked = false;
        // What each attempt got, for the failure message.
        const attempts: string[] = [];
        for (let attempt = 0; attempt < 20 && !acked; attempt++) {
          const server = DEFAULT_SERVERS[Math.floor(random() * DEFAULT_SERVERS.length)] as string;
          try {
            const reply = await exchange(
              herd.port(server),
              `IAMAT ${update.id} ${update.location} ${update.time}\n`,
              3000,
            );
            acked = reply.startsWith('AT ');
            attempts.push(`${server}: ${JSON.stringify(reply)}`);
          } catch (error) {
            attempts.push(`${server}: ${(error as Error).message}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        assert.ok(
          acked,
          `no server acknowledged ${update.id} in 20 attempts:\n${attempts.join('\n')}\nthe herd said:\n${herd.output.slice(-30).join('\n')}`,
        );
        const current = expected.get(update.id);
        if (current === undefined || Number(update.time) > Number(current.time))
          expected.set(update.id, { location: update.location, time: update.time });
      }
    }
    assert.ok(kills >= 2, `the schedule killed ${kills} servers`);
    // Faults stop: wait for every restarted server to be back before measuring convergence.
    await waitUntil(
      async () => {
        const up = await Promise.all(
          DEFAULT_SERVERS.map((name) =>
            exchange(herd.port(name), '\n', 1000).then(
              () => true,
              () => false,
            ),
          ),
        );
        return up.every(Boolean);
      },
      // A hang guard: restarting takes longer on a loaded machine.
      30_000,
      'every server to be up',
    );
    const ms = await assertConverged(herd, expected);
    console.log(`# seed ${seed}: ${kills} kills, ${expected.size} clients, converged ${ms} ms after the last fault`);
  });
}
