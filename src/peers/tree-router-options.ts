/**
 * The options, bound and counters of a tree router (src/peers/plumtree.ts): what a server gives it,
 * and what it counts for tests and logs.
 */
import type { Logger } from '../observability/logger.js';
import type { LocationStore } from '../store/location-store.js';

/**
 * Most updates a lazy neighbour waits for before they are announced without waiting for the tick.
 * The ticks fall on the wall clock's whole seconds on every server, so a second's announcements
 * written and read on the tick are one long turn on every server at the same instant, which the
 * floods arriving then wait for (at 1,000 updates/s, several ms on each server of the ring of five:
 * docs/benchmarks.md "Propagation at 1k/s: where the tail comes from (2026-12-03)"). In batches of
 * this size the same work is spread over the second, one short turn at a time.
 */
export const ANNOUNCE_BATCH_UPDATES = 64;

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
