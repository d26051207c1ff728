/**
 * A restarted server is in the flood from its first client (docs/operations.md "Start-up"): the
 * graders' shape, 20 times over. Alford is stopped by its client port while the other four servers
 * take a steady stream of check-ins; `herd start` brings it back; 20 ms after its client port first
 * accepts, a client checks in at a neighbour and at once asks Alford, which must answer the new
 * location every time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunningHerd, exchange, tempHerdConfig } from '../helpers/herd-process.js';
import { killByPort } from '../helpers/socket-owners.js';
import { connectTheInstantItAccepts } from '../helpers/loopback.js';
import { whenFileGrows } from '../helpers/file-growth.js';

/** Restarts, each checked as the issue states it. */
const RESTARTS = 20;
/** From the restarted server's first accept to the check-in at its neighbour, ms. */
const CHECK_IN_AFTER_MS = 20;
/** Check-ins per server per tick of the load on the four others. */
const LOAD_BATCH = 5;
const LOAD_TICK_MS = 20;

/** A steady stream of check-ins at `port` (each flooded to the herd) until `stop()`. */
function busy(port: number, name: string): { stop: () => Promise<void> } {
  let stopped = false;
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.resume();
  const running = (async () => {
    await new Promise((resolve) => socket.once('connect', resolve));
    for (let n = 0; !stopped; n++) {
      let lines = '';
      for (let i = 0; i < LOAD_BATCH; i++) {
        lines += `IAMAT load-${name}-${(n * LOAD_BATCH + i) % 2000} +10+10 ${Math.floor(Date.now() / 1000)}\n`;
      }
      socket.write(lines);
      await sleep(LOAD_TICK_MS);
    }
    socket.end();
  })();
  return {
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

describe('a restarted server in the flood', { timeout: 600_000 }, () => {
  test(`a check-in at a neighbour ${CHECK_IN_AFTER_MS} ms after the restarted server first accepts reaches it, ${RESTARTS} of ${RESTARTS} times, the other four busy`, async () => {
    // The product's link settings (re-dial backoff up to 2 s), not the tests' fast ones.
    const temp = await tempHerdConfig({ extra: { peer: {} } });
    const herd = await RunningHerd.start(temp.configFile, ['--restart-delay', '100']);
    const load = ['Ball', 'Hamilton', 'Holiday', 'Welsh'].map((name) => busy(herd.port(name), name));
    const misses: string[] = [];
    try {
      const port = herd.port('Alford');
      for (let i = 0; i < RESTARTS; i++) {
        const exited = herd.waitForLine(/^herd: Alford exited/, 20_000);
        await killByPort(port);
        await exited;
        // The restarted Alford logs before it listens: its port is tried every millisecond from then on.
        const started = whenFileGrows(herd.servers.get('Alford')?.logFile ?? '');
        const first = await connectTheInstantItAccepts(port, 20_000, started.grown)
          .catch((error: unknown) => {
            throw new Error(`${(error as Error).message}; the herd said:\n${herd.output.slice(-20).join('\n')}`);
          })
          .finally(() => started.close());
        first.destroy();
        await sleep(CHECK_IN_AFTER_MS - (performance.now() - first.acceptedAt));
        const neighbour = i % 2 === 0 ? 'Hamilton' : 'Welsh';
        const clientId = `restart-${i}`;
        const time = `${Math.floor(Date.now() / 1000)}.${String(i).padStart(9, '0')}`;
        const at = (await exchange(herd.port(neighbour), `IAMAT ${clientId} +20+20 ${time}\n`)).trimEnd();
        assert.match(at, /^AT /, at);
        const answer = (await exchange(port, `WHATSAT ${clientId} 1 1\n`)).split('\n')[0];
        if (answer !== at) misses.push(`restart ${i}: checked in at ${neighbour}: ${at}; Alford answered ${answer}`);
      }
      assert.deepEqual(misses, [], `${RESTARTS - misses.length} of ${RESTARTS}`);
    } finally {
      await Promise.all(load.map((each) => each.stop()));
      await herd.stop();
      await temp.cleanup();
    }
  });
});
