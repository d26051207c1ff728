/**
 * The offline Nearby Search: the places within a radius, best first by the ranking rule (prominence
 * descending, then great-circle distance ascending, then file position), cut to a bound. A best-first
 * branch and bound over the packed Hilbert R-tree of a data file: each node enters the queue with the
 * best key any of its places could have (its largest prominence, the haversine lower bound of its
 * box, its first position), so places leave the queue in exact ranking order and the search stops
 * after `limit` of them, without visiting the thousands of other places of a dense area.
 */
import { NODE_FIELDS, NODE_SIZE } from './data-format.js';
import type { PlacesData } from './data-file.js';
import { boxHaversineLowerBound, haversineOfMeters, haversineWithCos } from './great-circle.js';
import { RankQueue } from './rank-queue.js';

/**
 * Lower bounds are shrunk by this factor so that rounding can never make a box's bound exceed the
 * haversine of a place inside it (a smaller bound only costs a visit).
 */
const LOWER_BOUND_SLACK = 1 - 1e-9;

/** Finds ranked places in one data file; one instance serves many searches (not concurrently). */
export class PlacesSearch {
  private readonly queue = new RankQueue();
  private readonly one = new Uint32Array(1);

  constructor(private readonly data: PlacesData) {}

  /**
   * Writes the positions of the best places within `radiusMeters` of the point into `out`, best first.
   *
   * @param lat - degrees north; `lng` degrees east.
   * @param limit - most positions to write; `out` must have room for them.
   * @returns how many positions were written (0 to `limit`).
   */
  search(lat: number, lng: number, radiusMeters: number, limit: number, out: Uint32Array): number {
    return this.run(lat, lng, haversineOfMeters(radiusMeters), limit, out, true);
  }

  /**
   * The position of the place nearest to the point by great-circle distance (the first in the file
   * among equals), whatever its prominence; -1 for an empty file. The same branch and bound as
   * {@link search}, with every prominence taken as equal.
   */
  nearest(lat: number, lng: number): number {
    return this.run(lat, lng, 1, 1, this.one, false) === 1 ? (this.one[0] as number) : -1;
  }

  /** {@link search} within haversine `hMax`, ranked by prominence first when `ranked`, else by distance alone. */
  private run(lat: number, lng: number, hMax: number, limit: number, out: Uint32Array, ranked: boolean): number {
    const { count, coordinates, prominence, nodes, levelStarts } = this.data;
    const levels = levelStarts.length;
    if (count === 0 || limit <= 0) return 0;
    const queue = this.queue;
    queue.clear();
    const cosLat = Math.cos((lat * Math.PI) / 180);
    const pushNode = (level: number, j: number): void => {
      const g = (levelStarts[level] as number) + j;
      const b = g * NODE_FIELDS;
      const lowerBound =
        boxHaversineLowerBound(
          lat,
          lng,
          cosLat,
          nodes[b] as number,
          nodes[b + 1] as number,
          nodes[b + 2] as number,
          nodes[b + 3] as number,
        ) * LOWER_BOUND_SLACK;
      if (lowerBound <= hMax)
        queue.push(ranked ? (nodes[b + 4] as number) : 0, lowerBound, j * NODE_SIZE ** (level + 1), g);
    };
    pushNode(levels - 1, 0);
    let found = 0;
    while (queue.size > 0 && found < limit) {
      queue.pop();
      const g = queue.topNode;
      if (g < 0) {
        out[found++] = queue.topPosition;
        continue;
      }
      let level = levels - 1;
      while ((levelStarts[level] as number) > g) level--;
      const j = g - (levelStarts[level] as number);
      const first = j * NODE_SIZE;
      if (level === 0) {
        const end = Math.min(count, first + NODE_SIZE);
        for (let i = first; i < end; i++) {
          const h = haversineWithCos(cosLat, lat, lng, coordinates[2 * i + 1] as number, coordinates[2 * i] as number);
          if (h <= hMax) queue.push(ranked ? (prominence[i] as number) : 0, h, i, -1);
        }
      } else {
        const end = Math.min(this.data.header.levels[level - 1] as number, first + NODE_SIZE);
        for (let c = first; c < end; c++) pushNode(level - 1, c);
      }
    }
    return found;
  }
}
