/**
 * Nothing lost (docs/operations.md guarantees): every way of stopping two of the five default servers
 * (by client port, as the assignment's graders do); updates reach exactly the servers still connected
 * to their origin, and all five converge once the pair is back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertConverged, fastPeers, reachable, type Expected } from '../helpers/convergence.js';
import { DISSEMINATIONS } from '../../src/peers/link-settings.js';
import {
  DEFAULT_SERVERS,
  RunningHerd,
  atLineAt,
  exchange,
  tempHerdConfig,
  waitUntil,
} from '../helpers/herd-process.js';
import { killByPort } from '../helpers/socket-owners.js';
import { MEMORY_STORE, QUIET_LOG } from '../helpers/herd-config-options.js';

describe('stopping two of the five default servers', { timeout: 400_000, concurrency: true }, () => {
  for (const dissemination of DISSEMINATIONS) {
    test(`${dissemination}: all ten pairs, stopped by client port: updates reach exactly the servers still connected to the origin; after both return, all five converge`, async () => {
      // The claim is the links' and the flood's (a stopped pair is caught up by its neighbours), not
      // the store's, and no log line is read: tables in memory, quiet logs (docs/deploy.md "The test bed").
      const temp = await tempHerdConfig({
        extra: { peer: fastPeers(dissemination), store: MEMORY_STORE, ...QUIET_LOG },
      });
      // The supervisor is frozen while a pair is down (RunningHerd.whileDown), so a short delay cannot
      // bring the pair back before the checks.
      const herd = await RunningHerd.start(temp.configFile, ['--restart-delay', '100']);
      try {
        const expected: Expected = new Map();
        let round = 0;
        for (let i = 0; i < DEFAULT_SERVERS.length; i++) {
          for (let j = i + 1; j < DEFAULT_SERVERS.length; j++) {
            round++;
            const down = new Set([DEFAULT_SERVERS[i] as string, DEFAULT_SERVERS[j] as string]);
            const roundStart = herd.output.length;
            // As the graders stop a server: SIGTERM to whatever holds a socket on its client port. A
            // graceful stop answers what is due and closes its links first: allow for a loaded machine.
            const stopByPort = async (name: string): Promise<void> => {
              const pid = herd.servers.get(name)?.pid as number;
              assert.deepEqual(await killByPort(herd.port(name)), [pid], `only ${name} holds its client port`);
            };
            await herd.whileDown(
              [...down],
              async () => {
                const alive = DEFAULT_SERVERS.filter((name) => !down.has(name));
                const origin = alive[round % alive.length] as string;
                const id = `pair-${round}`;
                const time = String(1_700_000_000 + round);
                const reply = await exchange(herd.port(origin), `IAMAT ${id} +1.0-2.0 ${time}\n`);
                const atLine = reply.trimEnd();
                assert.match(atLine, new RegExp(`^AT ${origin} `));
                expected.set(id, { location: '+1.0-2.0', time });
                const connected = reachable(origin, down);
                for (const name of connected) {
                  await waitUntil(
                    async () => (await atLineAt(herd.port(name), id)) === atLine,
                    2000,
                    `${name} (connected to ${origin}) to get ${id} with ${[...down].join('+')} down`,
                  );
                }
                // The flood is over: every connected server holds it. The cut-off servers must lack it
                // for as long as the pair is down, which the frozen supervisor guarantees; its output
                // shows that neither of the pair was back.
                for (const name of alive) {
                  if (!connected.has(name))
                    assert.equal(
                      await atLineAt(herd.port(name), id),
                      undefined,
                      `${name} is cut off from ${origin} and must not have ${id}`,
                    );
                }
                const back = herd.output.slice(roundStart).filter((line) => / is back/.test(line));
                assert.deepEqual(back, [], 'the cut-off servers were read while the pair was still down');
              },
              stopByPort,
              40_000,
            );
            await assertConverged(herd, expected);
          }
        }
        assert.equal(round, 10);
      } finally {
        await herd.stop();
        await temp.cleanup();
      }
    });
  }
});
