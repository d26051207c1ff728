/**
 * Hop counts over a herd's link graph (the config's `links`): how many links an update from a root
 * crosses, on the shortest path, to reach each of this server's neighbours. The tree dissemination
 * (./plumtree.ts) keeps the link with fewer hops when an update arrives twice, so that every
 * server's parent in a root's tree is nearer the root than itself, and the trees cannot close into
 * a cycle (docs/protocol.md#dissemination-flood-or-tree).
 */

/** One link of the herd: the names of its two ends. */
export type HerdLink = readonly [string, string];

/** Shortest-path hop counts from every server of a link graph to a fixed set of its servers. */
export class HopCounts {
  /** Root -> neighbour -> hops from the root to it. */
  private readonly byRoot = new Map<string, ReadonlyMap<string, number>>();

  /**
   * Computes, by a breadth-first search from every server of `links`, the hops from each to each of
   * `neighbours`. O(servers x (servers + links)) once; a herd of 40 with 120 links is 6,400 steps.
   *
   * @param links every link of the herd (both directions are one link).
   * @param neighbours the servers whose distances are kept (this server's neighbours).
   */
  constructor(links: Iterable<HerdLink>, neighbours: Iterable<string>) {
    const adjacent = new Map<string, string[]>();
    const edge = (from: string, to: string): void => {
      const list = adjacent.get(from);
      if (list === undefined) adjacent.set(from, [to]);
      else list.push(to);
    };
    for (const [a, b] of links) {
      edge(a, b);
      edge(b, a);
    }
    const kept = [...neighbours];
    for (const root of adjacent.keys()) {
      const hops = new Map<string, number>([[root, 0]]);
      const queue = [root];
      for (let head = 0; head < queue.length; head++) {
        const at = queue[head] as string;
        const next = (hops.get(at) as number) + 1;
        for (const to of adjacent.get(at) ?? []) {
          if (hops.has(to)) continue;
          hops.set(to, next);
          queue.push(to);
        }
      }
      const toNeighbours = new Map<string, number>();
      for (const name of kept) {
        const count = hops.get(name);
        if (count !== undefined) toNeighbours.set(name, count);
      }
      this.byRoot.set(root, toNeighbours);
    }
  }

  /**
   * Hops on the shortest path from `root` to `neighbour`: 0 when they are the same server;
   * `Infinity` when either is not in the graph or no path joins them (an unknown root from the
   * network compares equal with everything, so the first arrival decides, as without hop counts).
   */
  hops(root: string, neighbour: string): number {
    return this.byRoot.get(root)?.get(neighbour) ?? Infinity;
  }
}
