/**
 * The herd shapes of the `scale` scenario (docs/benchmarks.md "Scale"): rings, random graphs of
 * degree 3 (seeded, so every run measures the same graph) and full meshes, with what the scenario
 * needs to know about each: hop distances from the first server, the far side, and a server whose
 * loss leaves the rest connected.
 */
import { seededRandom } from '../test/helpers/seeded-random.js';

/** A herd's servers and links, as the floor's relays (./scale-floor.ts) need them. */
export interface HerdGraph {
  /** For tables and errors: `ring of 20`, `the default herd`. */
  readonly label: string;
  readonly names: readonly string[];
  readonly links: readonly (readonly [string, string])[];
}

/** A herd shape of the scale scenario. */
export interface Shape extends HerdGraph {
  /** `ring-20`, `degree3-40`, `mesh-10`. */
  readonly id: string;
  readonly kind: 'ring' | 'degree3' | 'mesh';
}

/** The seed of the random graphs. */
export const DEGREE3_SEED = 19;

function serverNames(n: number): string[] {
  const width = String(n - 1).length;
  return Array.from({ length: n }, (_, i) => `S${String(i).padStart(width, '0')}`);
}

/** A ring of `n` servers. */
export function ringShape(n: number): Shape {
  const names = serverNames(n);
  return {
    id: `ring-${n}`,
    label: `ring of ${n}`,
    kind: 'ring',
    names,
    links: names.map((name, i) => [name, names[(i + 1) % n] as string] as const),
  };
}

/** Every pair of `n` servers linked. */
export function meshShape(n: number): Shape {
  const names = serverNames(n);
  const links: [string, string][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) links.push([names[i] as string, names[j] as string]);
  return { id: `mesh-${n}`, label: `full mesh of ${n}`, kind: 'mesh', names, links };
}

/**
 * A random connected graph where every server has at least 3 links: a ring in a random order (so
 * it is connected), then links between random servers of degree under 3 until none is left.
 */
export function degree3Shape(n: number, seed = DEGREE3_SEED): Shape {
  const names = serverNames(n);
  const random = seededRandom(seed);
  const order = [...names];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as string, order[i] as string];
  }
  const links: [string, string][] = order.map((name, i) => [name, order[(i + 1) % n] as string]);
  const has = (a: string, b: string): boolean => links.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
  const degree = (name: string): number => links.filter(([x, y]) => x === name || y === name).length;
  for (let guard = 0; guard < 100 * n; guard++) {
    const low = names.filter((name) => degree(name) < 3);
    if (low.length === 0) break;
    const a = low[Math.floor(random() * low.length)] as string;
    const candidates = names.filter((name) => name !== a && !has(a, name));
    const preferred = candidates.filter((name) => degree(name) < 3);
    const pool = preferred.length > 0 ? preferred : candidates;
    links.push([a, pool[Math.floor(random() * pool.length)] as string]);
  }
  return { id: `degree3-${n}`, label: `random degree 3, ${n}`, kind: 'degree3', names, links };
}

/** The shapes of a full run: rings of 5 to 40, degree-3 graphs of 20 and 40, meshes of 10 and 20. */
export function fullShapes(): Shape[] {
  return [
    ringShape(5),
    ringShape(10),
    ringShape(20),
    ringShape(40),
    degree3Shape(20),
    degree3Shape(40),
    meshShape(10),
    meshShape(20),
  ];
}

/** The shapes of `--quick`: one small ring (the smoke test's budget holds one shape in both modes). */
export function quickShapes(): Shape[] {
  return [ringShape(4)];
}

/** Hops from `from` to every server reachable without passing `without`, by name. */
export function hopsFrom(shape: HerdGraph, from: string, without?: string): Map<string, number> {
  const hops = new Map([[from, 0]]);
  const queue = [from];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    for (const [a, b] of shape.links) {
      const next = a === at ? b : b === at ? a : undefined;
      if (next === undefined || next === without || hops.has(next)) continue;
      hops.set(next, (hops.get(at) as number) + 1);
      queue.push(next);
    }
  }
  return hops;
}

/** The first server (the origin of the measured updates), the farthest from it, and the hops between. */
export function farSide(shape: Shape): { origin: string; far: string; hops: number } {
  const origin = shape.names[0] as string;
  let far = origin;
  let most = 0;
  for (const [name, hops] of hopsFrom(shape, origin)) {
    if (hops > most || (hops === most && name > far)) {
      far = name;
      most = hops;
    }
  }
  return { origin, far, hops: most };
}

/**
 * The server the scenario kills and restarts: on a shortest path from the origin to the far side,
 * half way, when the rest stays connected without it (else any such server but those two).
 */
export function victim(shape: Shape): string {
  const { origin, far, hops } = farSide(shape);
  const fromOrigin = hopsFrom(shape, origin);
  const fromFar = hopsFrom(shape, far);
  const connectedWithout = (name: string): boolean => hopsFrom(shape, origin, name).size === shape.names.length - 1;
  const middle = Math.max(1, Math.floor(hops / 2));
  const onPath = shape.names.filter(
    (name) => fromOrigin.get(name) === middle && (fromFar.get(name) as number) + middle === hops,
  );
  const candidates = [...onPath, ...shape.names].filter((name) => name !== origin && name !== far);
  const found = candidates.find(connectedWithout);
  if (found === undefined) throw new Error(`${shape.label}: no server can go without splitting the herd`);
  return found;
}
