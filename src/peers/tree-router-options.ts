/**
 * The options and counters of a tree router (src/peers/plumtree.ts): what a server gives it, and
 * what it counts for tests and logs.
 */
import type { Logger } from '../observability/logger.js';
import type { LocationStore } from '../store/location-store.js';
import type { HopCounts } from './hop-counts.js';

/** Options of a {@link TreeRouter}. */
export interface TreeRouterOptions {
  /** The table: what is held decides duplicates, misses and graft replies. */
  readonly store: LocationStore;
  /** Queues a line (without terminator) on the outgoing link to `peer`: an AT line or an IHAVE. */
  readonly push: (peer: string, line: string) => void;
  /**
   * Writes a line (without terminator) back to `peer` over the link it dialled to this server: a
   * PRUNE or a GRAFT. Returns false when that link is not up (nothing written).
   */
  readonly reply: (peer: string, line: string) => boolean;
  /** Longest line, bytes (`limits.maxLineBytes`): IHAVE and GRAFT lines are cut to it. */
  readonly maxLineBytes: number;
  /**
   * Most announcements held for one neighbour between ticks, and most missing records tracked. Past
   * it they are dropped and logged; anti-entropy repairs (`peer.maxQueuedUpdates`).
   */
  readonly maxPending: number;
  /**
   * Hops from each root to each neighbour over the herd's links: a duplicate that came by fewer
   * hops keeps its link. @default none: the first arrival decides every duplicate
   */
  readonly hops?: HopCounts;
  /** Interval of the ticks, ms (`peer.heartbeatIntervalMs`). */
  readonly intervalMs: number;
  readonly log: Logger;
}

/** Counts since start, for tests and logs. */
export interface TreeCounters {
  prunesSent: number;
  graftsSent: number;
  /** Records asked for by a GRAFT. */
  recordsGrafted: number;
  ihaveLinesSent: number;
  /** Announcements dropped at {@link TreeRouterOptions.maxPending}. */
  announcementsDropped: number;
}
