/**
 * Partitions and the link queue bound (issue "Nothing lost"), with in-process servers on loopback
 * whose links run through cuttable proxies.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HerdServer } from '../../src/server/herd-server.js';
import { CuttableProxy } from '../helpers/cuttable-proxy.js';
import { exchange, waitUntil } from '../helpers/herd-process.js';
import { soloOptions } from '../helpers/one-server.js';

/** Three servers in a line A - B - C, each link through its own proxy (one per direction). */
async function lineOfThree(maxQueuedUpdates: number) {
  const links = { reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 150, antiEntropyIntervalMs: 60_000, maxQueuedUpdates };
  const make = (name: string, neighbours: string[]) => new HerdServer(soloOptions({ name, neighbours, links }));
  const a = make('A', ['B']);
  const b = make('B', ['A', 'C']);
  const c = make('C', ['B']);
  const clientPorts = new Map<HerdServer, number>();
  const peerPorts = new Map<HerdServer, number>();
  for (const server of [a, b, c]) {
    const { client, peer } = await server.listen();
    clientPorts.set(server, client.port);
    peerPorts.set(server, peer.port);
  }
  const proxies: CuttableProxy[] = [];
  // Each link dials its neighbour's peer port through a proxy the test can cut.
  const wire = async (from: HerdServer, to: HerdServer) => {
    const { proxy, port } = await CuttableProxy.start({ host: '127.0.0.1', port: peerPorts.get(to) as number });
    proxies.push(proxy);
    from.setPeerAddress(to.name, { host: '127.0.0.1', port });
    return proxy;
  };
  const ab = [await wire(a, b), await wire(b, a)];
  await wire(b, c);
  await wire(c, b);
  await waitUntil(
    () => [a, b, c].every((s) => [...s.peerLinks.values()].every((l) => l.status === 'up')),
    5000,
    'all links up',
  );
  return {
    a,
    b,
    c,
    port: (server: HerdServer) => clientPorts.get(server) as number,
    partitionAB: () => ab.forEach((p) => p.partition()),
    healAB: () => ab.forEach((p) => p.heal()),
    close: async () => {
      await Promise.all([a, b, c].map((s) => s.close()));
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}

function sameTables(...servers: HerdServer[]): boolean {
  const [first, ...rest] = servers.map((s) => new Map([...s.store.values()].map((r) => [r.clientId, r.atLine])));
  return rest.every((t) => t.size === first?.size && [...t].every(([id, line]) => first?.get(id) === line));
}

describe('partitions', { timeout: 60_000 }, () => {
  test('a link blocked both ways while both servers stay up heals and converges', async () => {
    const herd = await lineOfThree(100_000);
    try {
      await exchange(herd.port(herd.a), 'IAMAT before +1+1 1700000000\n');
      await waitUntil(() => herd.c.store.get('before') !== undefined, 5000, 'C to learn "before"');
      herd.partitionAB();
      await waitUntil(
        () => herd.a.peerLinks.get('B')?.status !== 'up' && herd.b.peerLinks.get('A')?.status !== 'up',
        5000,
        'the A-B link to drop',
      );
      // Both sides keep taking updates; the same client moves on both sides of the cut.
      await exchange(herd.port(herd.a), 'IAMAT split +1+1 1700000010\nIAMAT only-a +2+2 1700000000\n');
      await exchange(herd.port(herd.c), 'IAMAT split +3+3 1700000020\nIAMAT only-c +4+4 1700000000\n');
      await waitUntil(() => herd.b.store.get('only-c') !== undefined, 5000, 'B to learn only-c from C');
      // Each side has flooded its updates toward the other and holds them queued on the cut link:
      // what comes after any stray delivery would have happened.
      await waitUntil(
        () =>
          (herd.b.peerLinks.get('A')?.queuedUpdates ?? 0) >= 2 && (herd.a.peerLinks.get('B')?.queuedUpdates ?? 0) >= 2,
        5000,
        'both sides of the cut to hold their floods',
      );
      assert.notEqual(herd.a.peerLinks.get('B')?.status, 'up');
      assert.equal(herd.a.store.get('only-c'), undefined, 'A is cut off from C');
      assert.equal(herd.b.store.get('only-a'), undefined, 'B is cut off from A');
      assert.equal(herd.a.store.get('split')?.latitude, 1);
      herd.healAB();
      await waitUntil(
        () => sameTables(herd.a, herd.b, herd.c) && herd.a.store.size === 4,
        10_000,
        'the three tables to converge after the heal',
      );
      assert.equal(herd.a.store.get('split')?.latitude, 3, 'the newer client time wins on every server');
    } finally {
      await herd.close();
    }
  });

  test('past the queue bound a link drops its queue, and anti-entropy at reconnect still delivers everything', async () => {
    const herd = await lineOfThree(5);
    try {
      herd.partitionAB();
      await waitUntil(() => herd.a.peerLinks.get('B')?.status !== 'up', 5000, 'the A-B link to drop');
      const lines = Array.from({ length: 50 }, (_, i) => `IAMAT q${i} +1+1 1700000000\n`).join('');
      await exchange(herd.port(herd.a), lines);
      const link = herd.a.peerLinks.get('B');
      assert.ok((link?.droppedUpdates ?? 0) >= 45, `dropped ${link?.droppedUpdates}`);
      assert.ok((link?.queuedUpdates ?? 99) <= 5, `queued ${link?.queuedUpdates}`);
      herd.healAB();
      await waitUntil(
        () => herd.c.store.size === 50 && sameTables(herd.a, herd.b, herd.c),
        10_000,
        'all 50 updates to reach C after the heal',
      );
    } finally {
      await herd.close();
    }
  });
});
