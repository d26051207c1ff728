/**
 * The durable store's timing and batch bounds, in a module of their own with no imports, so that
 * reading a config or a status never loads the SQLite driver (docs/operations.md "Guarantees").
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

/**
 * While commits fail (a full disk, a read-only or missing file), the longest wait before the next
 * attempt when nobody waits for one, ms; a waiting IAMAT (`store.sync`) starts one at once. The store
 * is back within this long of the fault ending.
 */
export const FAILED_COMMIT_RETRY_MS = 1000;

/**
 * Most rows held for the next commit while commits fail. Past it the whole queue is dropped, counted
 * (`herd_store_dropped_rows_total`) and logged (`store-overflow`); the rows are still in memory, and
 * once a commit succeeds again the whole table is rewritten from memory, so the file catches up
 * (docs/operations.md "When the store cannot write"). About 100 bytes a row.
 */
export const MAX_PENDING_ROWS = 100_000;
