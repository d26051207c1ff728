/**
 * Nothing lost (docs/operations.md guarantees): convergence over real processes while servers are
 * SIGKILLed and restarted on a seeded schedule. With `store.sync`, as that guarantee needs under
 * SIGKILL: a flood written just before the kill can be dropped by the neighbour's kernel when the
 * connection is reset, so only an update on disk before its `AT` is sure to come back.
 */
import { describe, test } from 'node:test';
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

describe('convergence under faults', { timeout: 400_000 }, () => {
  for (const seed of [1, 2, 3]) {
    // The seeds take turns between the dissemination modes.
    const dissemination = DISSEMINATIONS[seed % DISSEMINATIONS.length] as Dissemination;
    test(`seed ${seed}, ${dissemination}: updates to random servers while servers are SIGKILLed and restarted; all end equal`, async () => {
      const temp = await tempHerdConfig({ extra: { peer: fastPeers(dissemination), store: { sync: true } } });
      const herd = await RunningHerd.start(temp.configFile, ['--restart-delay', '300']);
      try {
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
        console.log(
          `# seed ${seed}: ${kills} kills, ${expected.size} clients, converged ${ms} ms after the last fault`,
        );
      } finally {
        await herd.stop();
        await temp.cleanup();
      }
    });
  }
});
