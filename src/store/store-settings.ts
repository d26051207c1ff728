/**
 * The durable store's timing and batch bounds, in a module of their own with no imports, so that
 * reading a config or a status never loads the SQLite driver (docs/operations.md "Durability").
 */

/** Default `store.commitIntervalMs`: the longest an update waits in memory before its commit, ms. */
export const COMMIT_INTERVAL_MS = 50;

/**
 * Most rows in one commit: a larger backlog is committed in several, one after the other, so the
 * writer thread's memory stays bounded (about 1 MB of AT lines per commit).
 */
export const COMMIT_MAX_ROWS = 8_192;

/** Longest wait at close for the writer thread's commit and its close, ms. */
export const CLOSE_WAIT_MS = 10_000;
