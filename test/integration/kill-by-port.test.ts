/**
 * Stopping a server the way the assignment's graders do (`lsof -ti:PORT | xargs kill` on its client
 * port) stops that server alone: neighbours hold their links to its peer port, never to its client
 * port (docs/protocol.md "Ports"). Updates keep flowing around it, and after its restart it is
 * linked both ways at once and caught up.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_SERVERS,
  RunningHerd,
  atLineAt,
  exchange,
  processAlive as alive,
  tempHerdConfig,
  waitUntil,
} from '../helpers/herd-process.js';
import { killByPort, pidsWithSocketOnPort } from '../helpers/socket-owners.js';
import { MEMORY_STORE } from '../helpers/herd-config-options.js';

/** `time` of the first JSON log line of `file` at or after `fromMs` matching every field of `match`. */
async function logTime(file: string, fromMs: number, match: Record<string, unknown>): Promise<number | undefined> {
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (line === '') continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (typeof entry.time !== 'number' || entry.time < fromMs) continue;
    if (Object.entries(match).every(([key, value]) => entry[key] === value)) return entry.time;
  }
  return undefined;
}

describe('kill by client port', { timeout: 120_000 }, () => {
  test('SIGTERM to every process holding a socket on one client port stops that server only', async () => {
    // Re-dial backoff of 10-20 s: a neighbour that re-links at once after the restart does so
    // because the restarted server dialled it, not because its own timer ran out.
    const temp = await tempHerdConfig({
      // The links' claim, not the store's (docs/deploy.md "The test bed"); the log is read: info.
      extra: { peer: { reconnectBaseDelayMs: 20_000, reconnectMaxDelayMs: 20_000 }, store: MEMORY_STORE },
    });
    const herd = await RunningHerd.start(temp.configFile, ['--restart-delay', '100']);
    try {
      const port = herd.port('Alford');
      // Every link up: an IAMAT at Alford reaches the far side of the ring.
      const first = (await exchange(port, 'IAMAT before +1+1 1700000000\n')).trimEnd();
      await waitUntil(async () => (await atLineAt(herd.port('Holiday'), 'before')) === first, 10_000, 'Holiday');

      const owners = await pidsWithSocketOnPort(port);
      assert.deepEqual(owners, [herd.servers.get('Alford')?.pid], 'only Alford holds a socket on its client port');
      const others = DEFAULT_SERVERS.filter((name) => name !== 'Alford').map(
        (name) => herd.servers.get(name)?.pid as number,
      );
      const killedAt = Date.now();
      // Alford stays down for the checks however slow the machine (RunningHerd.whileDown).
      const during = await herd.whileDown(
        ['Alford'],
        async () => {
          for (const pid of others) assert.ok(alive(pid), `server ${pid} must still run`);
          // Updates still reach every server connected to the origin (here: all but Alford).
          const update = (await exchange(herd.port('Hamilton'), 'IAMAT during +2+2 1700000001\n')).trimEnd();
          for (const name of ['Holiday', 'Ball', 'Welsh']) {
            await waitUntil(
              async () => (await atLineAt(herd.port(name), 'during')) === update,
              5000,
              `${name} to learn it`,
            );
          }
          return update;
        },
        async () => assert.deepEqual(await killByPort(port), owners),
        20_000,
      );
      // Alford is caught up by anti-entropy, and linked both ways with each neighbour.
      await waitUntil(
        async () => (await atLineAt(herd.port('Alford'), 'during')) === during,
        10_000,
        'Alford caught up',
      );
      for (const neighbour of ['Hamilton', 'Welsh']) {
        const file = herd.servers.get(neighbour)?.logFile as string;
        const learned = await waitUntil(
          () => logTime(file, killedAt, { event: 'peer-connected', peer: 'Alford' }),
          10_000,
          `${neighbour} to accept Alford's link`,
        );
        const linked = await waitUntil(
          () => logTime(file, learned, { event: 'link-status', link: 'out', peer: 'Alford', to: 'up' }),
          10_000,
          `${neighbour}'s link to Alford to come up without waiting out its backoff`,
        );
        console.log(`# ${neighbour}: link to Alford up ${linked - learned} ms after Alford's link to it`);
      }
      for (const pid of others) assert.ok(alive(pid), `server ${pid} must still run`);
    } finally {
      await herd.stop();
      await temp.cleanup();
    }
  });
});
