/**
 * Tree dissemination (src/peers/plumtree.ts) over herds in memory (test/helpers/tree-sim.ts): the
 * trees form from first arrivals and hop counts, then cost N-1 updates each, and form no cycle
 * when many updates are in flight at once; a silent cut of a tree link is
 * repaired by the announcements on the lazy links alone; a closed link grafts back what it fed; and,
 * as a property, random herds under random cuts, closes and re-opens end with every update
 * everywhere.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seededRandom } from '../helpers/herd-process.js';
import { HopCounts } from '../../src/peers/hop-counts.js';
import { TreeRouter } from '../../src/peers/plumtree.js';
import { LocationStore } from '../../src/store/location-store.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { SimHerd } from '../helpers/tree-sim.js';

function ring(n: number): { names: string[]; links: [string, string][] } {
  const names = Array.from({ length: n }, (_, i) => `S${i}`);
  return { names, links: names.map((name, i) => [name, names[(i + 1) % n] as string]) };
}

function mesh(n: number): { names: string[]; links: [string, string][] } {
  const names = Array.from({ length: n }, (_, i) => `S${i}`);
  const links: [string, string][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) links.push([names[i] as string, names[j] as string]);
  return { names, links };
}

/** A `side` x `side` grid: each server linked to the ones beside, above and below it. */
function grid(side: number): { names: string[]; links: [string, string][] } {
  const names = Array.from({ length: side * side }, (_, i) => `S${i}`);
  const links: [string, string][] = [];
  for (let i = 0; i < names.length; i++) {
    if (i % side < side - 1) links.push([names[i] as string, names[i + 1] as string]);
    if (i + side < names.length) links.push([names[i] as string, names[i + side] as string]);
  }
  return { names, links };
}

let time = 1_700_000_000;
/** A client time later than any before. */
function next(): string {
  time++;
  return String(time);
}

/**
 * Warm-up: `rounds` rounds of one update from each of `origins`, each round settled for a tick,
 * so that the origins' trees form (their redundant links pruned).
 */
function warmUp(herd: SimHerd, origins: readonly string[], rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    for (const origin of origins) herd.iamat(origin, `warm-${origin}-${round}`, next());
    herd.settle(1);
  }
}

/**
 * A ring of 8 whose trees from S0 are built, then S0-S1 (a link of S0's tree, which runs both ways
 * round the ring) cut silently, and 20 updates (client ids `<prefix>-<i>`) checked in at S0 and
 * drained: what the cut link carried is lost.
 */
function cutTreeLink(prefix: string): { herd: SimHerd; records: ReturnType<SimHerd['iamat']>[] } {
  const { names, links } = ring(8);
  const herd = new SimHerd({ names, links, random: seededRandom(3) });
  warmUp(herd, ['S0'], 3);
  herd.cut('S0', 'S1');
  const records = Array.from({ length: 20 }, (_, i) => herd.iamat('S0', `${prefix}-${i}`, next()));
  herd.drain();
  return { herd, records };
}

describe('tree dissemination in memory', () => {
  for (const [shape, graph] of [
    ['full mesh of 10', mesh(10)],
    ['ring of 12', ring(12)],
  ] as const) {
    test(`${shape}: once the trees formed, an update costs N-1 AT lines and no control line`, () => {
      const herd = new SimHerd({ ...graph, random: seededRandom(7) });
      const n = graph.names.length;
      // Warm-up: a few updates from every origin form every origin's tree.
      warmUp(herd, graph.names, 4);
      const before = { ...herd.delivered };
      const updates = 30;
      for (let i = 0; i < updates; i++) {
        const record = herd.iamat(graph.names[i % n] as string, `c${i}`, next());
        herd.drain();
        assert.deepEqual(herd.lacking(record), [], `update ${i} reached everyone by eager push`);
      }
      assert.equal(herd.delivered.AT - before.AT, updates * (n - 1));
      assert.equal(herd.delivered.PRUNE - before.PRUNE, 0);
      assert.equal(herd.delivered.GRAFT - before.GRAFT, 0);
      // The announcements of a tick: one IHAVE line per root per lazy link that has some.
      herd.tick();
      herd.drain();
      assert.ok(herd.delivered.IHAVE > before.IHAVE, 'lazy links carry announcements');
      assert.equal(herd.delivered.GRAFT - before.GRAFT, 0, 'nothing was missing');
    });
  }

  test('a lazy link announces as soon as a line of announcements is pending; a light load waits for the tick', () => {
    const { names, links } = ring(5);
    const herd = new SimHerd({ names, links, random: seededRandom(5) });
    warmUp(herd, ['S0'], 3);
    const ihave = (): number => herd.delivered.IHAVE;
    // Light load: a few updates between two ticks are announced on the tick, not before.
    const quiet = ihave();
    for (let i = 0; i < 20; i++) herd.iamat('S0', `light-${i}`, next());
    herd.drain();
    assert.equal(ihave(), quiet, 'nothing announced between ticks');
    herd.tick();
    herd.drain();
    const afterTick = ihave();
    assert.ok(afterTick > quiet, 'announced on the tick');
    // Load: 300 updates, about 23 bytes of announcement each, fill a 4,096-byte line before the tick.
    const records = Array.from({ length: 300 }, (_, i) => {
      const record = herd.iamat('S0', `busy-${i}`, next());
      herd.drain();
      return record;
    });
    assert.ok(ihave() > afterTick, 'a full line went out without waiting for the tick');
    const grafts = herd.delivered.GRAFT;
    herd.tick();
    herd.drain();
    herd.tick();
    herd.drain();
    assert.equal(herd.delivered.GRAFT, grafts, 'every announced update had arrived');
    for (const record of records) assert.deepEqual(herd.lacking(record), [], record.clientId);
  });

  test('updates from every origin at once: no two servers end up feeding each other, so every update arrives by eager push', () => {
    // Several updates of each root in flight at once, delivered in random orders: a server's first
    // copy of one update can come the long way round while its neighbour's first copy of another
    // came the other way. With first arrivals alone, both prune their real ways in (a cycle).
    const seeds = 20;
    for (const [shape, graph] of [
      ['ring of 8', ring(8)],
      ['3 x 3 grid', grid(3)],
    ] as const) {
      const cycles = { withHops: 0, firstArrivalOnly: 0 };
      for (let seed = 1; seed <= seeds; seed++) {
        for (const withHops of [true, false]) {
          const herd = new SimHerd({ ...graph, random: seededRandom(seed), hops: withHops });
          for (let round = 0; round < 4; round++) {
            for (let i = 0; i < 3; i++)
              for (const origin of graph.names) herd.iamat(origin, `w${round}-${i}-${origin}`, next());
            herd.drain(); // no tick: nothing is grafted back
          }
          const lacking = graph.names.flatMap((origin) => {
            const record = herd.iamat(origin, `after-${origin}`, next());
            herd.drain();
            return herd.lacking(record);
          });
          if (lacking.length > 0) cycles[withHops ? 'withHops' : 'firstArrivalOnly']++;
        }
      }
      assert.equal(cycles.withHops, 0, `${shape}: seeds where an update missed a server`);
      assert.ok(cycles.firstArrivalOnly > 0, `${shape}: the race happens (first arrivals alone formed a cycle)`);
    }
  });

  test("fewer hops prunes the first copy's link, unless the closer link was pruned already (its copy was in flight)", () => {
    // R's updates reach X by P1 and P2 (1 hop from R) and by S (2 hops: R-Q-S).
    const links: [string, string][] = [
      ['R', 'P1'],
      ['R', 'P2'],
      ['P1', 'X'],
      ['P2', 'X'],
      ['X', 'S'],
      ['S', 'Q'],
      ['Q', 'R'],
    ];
    const neighbours = ['P1', 'P2', 'S'];
    const store = new LocationStore();
    const prunes: string[] = [];
    const router = new TreeRouter({
      store,
      hops: new HopCounts(links, neighbours),
      push: () => {},
      reply: (peer, line) => (prunes.push(`${peer}: ${line}`), true),
      maxLineBytes: 4096,
      maxPending: 100,
      intervalMs: 1000,
      log: capturingLogger().logger,
    });
    for (const peer of neighbours) {
      router.outgoingUp(peer);
      router.incomingUp(peer);
    }
    const arrive = (clientId: string, from: string): void => {
      const record = { atLine: `AT R +0.000000001 ${clientId} +1+1 1700000000`, clientId };
      if (store.offer(record)) router.flood(record, from, neighbours);
      else router.notStored(record, from);
    };
    arrive('u', 'P1');
    arrive('u', 'P2'); // equal hops: the later copy's link
    assert.deepEqual(prunes, ['P2: PRUNE R']);
    arrive('v', 'S'); // P1's copy is late
    arrive('v', 'P2'); // in flight before P2 read its PRUNE: S stays, since P2 no longer pushes
    assert.deepEqual(prunes, ['P2: PRUNE R']);
    arrive('v', 'P1'); // 1 hop against S's 2: S's link is pruned, though its copy came first
    assert.deepEqual(prunes, ['P2: PRUNE R', 'S: PRUNE R']);
  });

  test("a root's own links are never pruned: every neighbour of the server a client checked in at gets it in one hop", () => {
    // Random delivery orders make many copies arrive first by a detour and then from the root itself.
    for (const [graph, seed] of [
      [mesh(8), 5],
      [ring(6), 9],
    ] as const) {
      const herd = new SimHerd({ ...graph, random: seededRandom(seed) });
      warmUp(herd, graph.names, 6);
      assert.ok(herd.delivered.PRUNE > 0, 'the trees formed');
      for (const root of graph.names) {
        for (const peer of herd.server(root).neighbours) {
          assert.equal(herd.server(root).router.isLazy(peer, root), false, `${root} pushes its own updates to ${peer}`);
        }
      }
    }
  });

  test('a tree link cut silently: the updates after the cut arrive through lazy links within two ticks', () => {
    const { herd, records } = cutTreeLink('cut');
    const lackingAfterPush = new Set(records.flatMap((record) => herd.lacking(record)));
    assert.ok(lackingAfterPush.has('S1'), 'the cut link carried S0 updates to S1');
    herd.tick(); // announced on the lazy link (S4-S5 side of the ring)
    herd.drain();
    herd.tick(); // still missing: grafted
    herd.drain();
    for (const record of records) assert.deepEqual(herd.lacking(record), [], record.clientId);
    // And the next updates take the grafted path at once.
    const after = herd.iamat('S0', 'after', next());
    herd.drain();
    assert.deepEqual(herd.lacking(after), []);
  });

  test('a record announced and then arriving is no longer missing at once, before any tick scans', () => {
    const { herd, records } = cutTreeLink('late');
    herd.tick(); // announced on the lazy link, in the middle of the ring
    herd.drain();
    const [name, server] = [...herd.servers].find(([, s]) => s.router.missingRecords > 0) ?? [];
    assert.ok(name !== undefined && server !== undefined, 'announced somewhere and not held there');
    // The pushed copies arrive late (the cut link's bytes after all): stored and spread as any.
    for (const record of records) {
      if (server.store.offer(record)) server.router.flood(record, 'S0', server.neighbours);
    }
    assert.equal(server.router.missingRecords, 0, `nothing missing at ${name}`);
    const grafts = herd.delivered.GRAFT;
    herd.tick();
    herd.drain();
    assert.equal(herd.delivered.GRAFT, grafts, 'nothing left to ask for');
  });

  test('a closed link grafts back the roots pruned on the others: the next update arrives by eager push', () => {
    const { names, links } = mesh(5);
    const herd = new SimHerd({ names, links, random: seededRandom(11) });
    warmUp(herd, ['S0'], 3);
    // S1's parents for S0's tree: the neighbours still pushing S0's updates to it.
    const parents = names.filter((peer) => peer !== 'S1' && !herd.server(peer).router.isLazy('S1', 'S0'));
    assert.ok(parents.length >= 1 && parents.length < 4, `parents ${parents.join(', ')}`);
    for (const parent of parents) herd.close(parent, 'S1');
    herd.drain(); // the GRAFTs reach the other neighbours
    const record = herd.iamat('S0', 'after-close', next());
    herd.drain();
    assert.deepEqual(herd.lacking(record), [], 'no tick needed');
  });

  test('property: random herds under random cuts, closes and re-opens end with every update everywhere', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 9 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('update' as const), origin: fc.nat(), client: fc.nat({ max: 15 }) }),
            fc.record({ kind: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 30 }) }),
            fc.record({ kind: fc.constant('tick' as const) }),
            fc.record({ kind: fc.constantFrom('cut' as const, 'close' as const, 'open' as const), link: fc.nat() }),
          ),
          { maxLength: 120 },
        ),
        (n, extraLinks, seed, steps) => {
          const random = seededRandom(seed);
          const names = Array.from({ length: n }, (_, i) => `S${i}`);
          // A random spanning tree plus some extra links: connected.
          const links: [string, string][] = [];
          for (let i = 1; i < n; i++) links.push([names[Math.floor(random() * i)] as string, names[i] as string]);
          for (let k = 0; k < extraLinks; k++) {
            const a = Math.floor(random() * n);
            const b = Math.floor(random() * n);
            if (
              a !== b &&
              !links.some(([x, y]) => (x === names[a] && y === names[b]) || (x === names[b] && y === names[a]))
            )
              links.push([names[a] as string, names[b] as string]);
          }
          const herd = new SimHerd({ names, links, random });
          const newest = new Map<string, string>();
          for (const step of steps) {
            if (step.kind === 'update') {
              const record = herd.iamat(names[step.origin % n] as string, `c${step.client}`, next());
              newest.set(record.clientId, record.atLine);
            } else if (step.kind === 'deliver') {
              for (let i = 0; i < step.count && herd.deliverOne(); i++);
            } else if (step.kind === 'tick') {
              herd.tick();
            } else {
              const [a, b] = links[step.link % links.length] as [string, string];
              if (step.kind === 'cut') herd.cut(a, b);
              else if (step.kind === 'close') herd.close(a, b);
              else herd.open(a, b);
            }
          }
          // The faults end as the failure detector and the re-dial would end them.
          for (const [a, b] of links) herd.close(a, b);
          for (const [a, b] of links) herd.open(a, b);
          herd.settle(3);
          for (const [clientId, atLine] of newest) {
            for (const [name, server] of herd.servers)
              assert.equal(server.store.atLineOf(clientId), atLine, `${name} holds the newest of ${clientId}`);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test("property: without faults, every update reaches everyone, the few left out by the trees' races within two ticks", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.integer({ min: 1, max: 2 ** 31 }), (n, seed) => {
        const random = seededRandom(seed);
        const names = Array.from({ length: n }, (_, i) => `S${i}`);
        const links: [string, string][] = [];
        for (let i = 1; i < n; i++) links.push([names[Math.floor(random() * i)] as string, names[i] as string]);
        for (let i = 0; i < n; i++) {
          const a = names[Math.floor(random() * n)] as string;
          const b = names[Math.floor(random() * n)] as string;
          if (a !== b && !links.some(([x, y]) => (x === a && y === b) || (x === b && y === a))) links.push([a, b]);
        }
        const herd = new SimHerd({ names, links, random });
        for (let i = 0; i < 40; i++) {
          herd.iamat(names[Math.floor(random() * n)] as string, `c${i}`, next());
          // Updates overlap: a few lines of the last ones still on their way.
          for (let k = 0; k < 5 && herd.deliverOne(); k++);
          if (random() < 0.1) herd.tick();
        }
        herd.settle(2);
        for (let i = 0; i < 40; i++) {
          for (const [name, server] of herd.servers) assert.notEqual(server.store.atLineOf(`c${i}`), undefined, name);
        }
      }),
      { numRuns: 100 },
    );
  });
});
