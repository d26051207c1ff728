/**
 * A link silently cut mid-stream (docs/protocol.md#dissemination-flood-or-tree): four in-process
 * servers in a ring, every link through a proxy, one clock and one set of timers moved by hand. A
 * client streams updates to one server; the link on its tree's shortest branch goes silent (bytes
 * dropped, nothing closed). With either `peer.dissemination`, nothing is lost, and by
 * `peer.deadAfterMs` plus one second after the cut every server holds every acknowledged update,
 * with anti-entropy too far off to help.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { PlacesProvider } from '../../src/places/provider.js';
import { DISSEMINATIONS, type Dissemination } from '../../src/peers/link-settings.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { CuttableProxy } from '../helpers/cuttable-proxy.js';
import { waitUntil } from '../helpers/herd-process.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const places: PlacesProvider = {
  source: 'none',
  nearby: async () => ({ html_attributions: [], results: [], status: 'ZERO_RESULTS' }),
};

const HEARTBEAT_MS = 1000;
const DEAD_AFTER_MS = 5000;
/** Hand-moved time per step of the stream. */
const STEP_MS = 100;
/** The bound under test. */
const REPAIR_BOUND_MS = DEAD_AFTER_MS + 1000;

const realPause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The ring A - B - C - D - A with every link (both directions) through a proxy. */
async function ringOfFour(dissemination: Dissemination) {
  const timers = new ManualTimers();
  const links = {
    dissemination,
    heartbeatIntervalMs: HEARTBEAT_MS,
    deadAfterMs: DEAD_AFTER_MS,
    reconnectBaseDelayMs: 100,
    reconnectMaxDelayMs: 400,
    // Far beyond the test: only the links and the tree may repair.
    antiEntropyIntervalMs: 3_600_000,
  };
  const names = ['A', 'B', 'C', 'D'];
  const logs = new Map(names.map((name) => [name, capturingLogger()]));
  const servers = new Map(
    names.map((name, i) => {
      const neighbours = [names[(i + 1) % 4] as string, names[(i + 3) % 4] as string];
      const logger = (logs.get(name) as ReturnType<typeof capturingLogger>).logger;
      return [name, new HerdServer({ name, host: '127.0.0.1', port: 0, neighbours, places, logger, timers, links })];
    }),
  );
  const clientPorts = new Map<string, number>();
  const peerPorts = new Map<string, number>();
  for (const [name, server] of servers) {
    const { client, peer } = await server.listen();
    clientPorts.set(name, client.port);
    peerPorts.set(name, peer.port);
  }
  /** `from>to` -> the proxy `from` dials `to` through. */
  const proxies = new Map<string, CuttableProxy>();
  for (const [name, server] of servers) {
    for (const neighbour of server.peerLinks.keys()) {
      const { proxy, port } = await CuttableProxy.start({
        host: '127.0.0.1',
        port: peerPorts.get(neighbour) as number,
      });
      proxies.set(`${name}>${neighbour}`, proxy);
      server.setPeerAddress(neighbour, { host: '127.0.0.1', port });
    }
  }
  const chunks = (): number => [...proxies.values()].reduce((sum, proxy) => sum + proxy.chunks, 0);
  /** Waits (real time) until no byte moved between servers for a few polls: the herd has done what it can. */
  const quiet = async (): Promise<void> => {
    let last = -1;
    let still = 0;
    while (still < 3) {
      const now = chunks();
      still = now === last ? still + 1 : 0;
      last = now;
      await realPause(5);
    }
  };
  /** Moves the hand-moved time by `ms`, then lets the herd act on it. */
  const advance = async (ms: number): Promise<void> => {
    timers.advance(ms);
    await quiet();
  };
  const allUp = (): boolean =>
    [...servers.values()].every((server) => [...server.peerLinks.values()].every((link) => link.status === 'up'));
  for (let i = 0; i < 50 && !allUp(); i++) await advance(STEP_MS);
  assert.ok(allUp(), 'every link up');
  return {
    servers,
    timers,
    advance,
    events: (name: string): string[] =>
      (logs.get(name) as ReturnType<typeof capturingLogger>).events().flatMap((entry) => entry.event ?? []),
    silence: (a: string, b: string): void => {
      proxies.get(`${a}>${b}`)?.silence();
      proxies.get(`${b}>${a}`)?.silence();
    },
    clientPort: (name: string): number => clientPorts.get(name) as number,
    close: async (): Promise<void> => {
      // The proxies go first, so that no connection is left silent; the hand-moved time runs on
      // until the servers' shutdown deadlines let them stop.
      await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
      let closed = false;
      const closing = Promise.all([...servers.values()].map((server) => server.close())).then(() => (closed = true));
      while (!closed) {
        timers.advance(STEP_MS);
        await realPause(5);
      }
      await closing;
    },
  };
}

/** A client connection that sends IAMATs and counts the acknowledgements. */
async function streamingClient(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let acked = 0;
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    const lines = buffered.split('\n');
    buffered = lines.pop() as string;
    acked += lines.filter((line) => line.startsWith('AT ')).length;
  });
  let sent = 0;
  return {
    /** Sends `count` updates and waits for their acknowledgements; returns their client ids. */
    async send(count: number): Promise<string[]> {
      const ids = Array.from({ length: count }, (_, i) => `cut-${sent + i}`);
      socket.write(ids.map((id) => `IAMAT ${id} +34.068930-118.445127 ${1_700_000_000 + sent}\n`).join(''));
      sent += count;
      await waitUntil(() => acked === sent, 5000, `acknowledgements of ${sent} updates`);
      return ids;
    },
    close: (): void => {
      socket.destroy();
    },
  };
}

describe('a link silently cut mid-stream', { timeout: 120_000 }, () => {
  for (const dissemination of DISSEMINATIONS) {
    test(`${dissemination}: nothing is lost, and every server holds every update within deadAfterMs + 1 s of the cut`, async () => {
      const herd = await ringOfFour(dissemination);
      const client = await streamingClient(herd.clientPort('A'));
      try {
        const acknowledged: string[] = [];
        // The stream starts; with `tree` the duplicates shape A's tree (A - B is its only one-hop way to B).
        for (let step = 0; step < 30; step++) {
          acknowledged.push(...(await client.send(2)));
          await herd.advance(STEP_MS);
        }
        const lacking = (): string[] =>
          [...herd.servers].flatMap(([name, server]) =>
            acknowledged.filter((id) => server.store.get(id) === undefined).map((id) => `${name}:${id}`),
          );
        assert.deepEqual(lacking(), [], 'before the cut every update is everywhere');
        if (dissemination === 'tree') {
          const prunes = ['A', 'B', 'C', 'D'].flatMap((name) => herd.events(name)).filter((e) => e === 'tree-prune');
          assert.ok(prunes.length > 0, 'the tree formed: some links were pruned');
        }
        const cutAt = herd.timers.now();
        herd.silence('A', 'B');
        // The stream goes on through the cut until the bound.
        while (herd.timers.now() - cutAt < REPAIR_BOUND_MS) {
          acknowledged.push(...(await client.send(2)));
          await herd.advance(STEP_MS);
        }
        assert.deepEqual(lacking(), [], `${REPAIR_BOUND_MS} ms after the cut every update is everywhere`);
        const a = herd.servers.get('A') as HerdServer;
        for (const [name, server] of herd.servers) {
          for (const id of acknowledged)
            assert.equal(server.store.get(id)?.atLine, a.store.get(id)?.atLine, `${name} holds A's line for ${id}`);
        }
        assert.notEqual(a.peerLinks.get('B')?.status, 'up', 'the failure detector noticed the silent link');
        if (dissemination === 'tree') {
          const repairs = ['B', 'C'].flatMap((name) => herd.events(name));
          assert.ok(
            repairs.some((e) => e === 'tree-graft' || e === 'tree-regraft'),
            `the tree was repaired by grafts: ${repairs.join(' ')}`,
          );
        }
      } finally {
        client.close();
        await herd.close();
      }
    });
  }
});
