/**
 * The rows a durable store has not handed to its writer yet (./sqlite-log.ts), kept as a queue of
 * batches of at most `batchRows` rows each, so that a commit takes the oldest batch as it is.
 *
 * A batch is a flat array, client id and AT line alternating, in the order the rows came: a row is
 * appended, not looked up. A client updated twice before a commit has two rows; the commit writes
 * them in order (its sort is stable) and keeps the last (./sqlite-table.ts `prepareUpsert`), which is
 * the newest: the table only ever stores a newer line, and a failed commit's rows go back before
 * everything queued after them. Keying the rows by client id in a `Map` (one insert per stored
 * record) was 5-7% of an IAMAT- or flood-loaded server's thread (docs/benchmarks.md "Cost per
 * operation: the store's rows in arrival order, one look-up per flood (2026-12-03)").
 *
 * Why batches: under a burst the rows arrive faster than the writer commits them, and a commit takes
 * at most {@link COMMIT_MAX_ROWS}. Taking them out of one map, row by row into a new one and deleting
 * each from the old, was 11% of a flood-loaded server's busy time (docs/benchmarks.md "Cost per
 * operation", 2026-12-03).
 */
import { COMMIT_MAX_ROWS } from './store-settings.js';

/**
 * Rows of one commit in the order they came: client id and AT line alternating (binary strings),
 * `[id, line, id, line, ...]`. A client may have several rows; its last is its newest.
 */
export type RowBatch = string[];

/** The rows of `batch` (half its length). */
export function rowCount(batch: readonly string[]): number {
  return batch.length >> 1;
}

/** Rows waiting for a commit, oldest first. */
export class PendingRows {
  private readonly batchRows: number;
  /** Full batches, oldest first. */
  private readonly full: RowBatch[] = [];
  /** The batch being filled. */
  private current: RowBatch = [];
  private fullRows = 0;

  /** @param batchRows - most rows in one batch, the most one commit takes. @default {@link COMMIT_MAX_ROWS} */
  constructor(batchRows: number = COMMIT_MAX_ROWS) {
    this.batchRows = batchRows;
  }

  /** Rows waiting (a client updated twice counts twice). */
  get size(): number {
    return this.fullRows + rowCount(this.current);
  }

  /** Queues a row of `clientId`, after every row queued before it. */
  push(clientId: string, atLine: string): void {
    const current = this.current;
    current.push(clientId, atLine);
    if (rowCount(current) < this.batchRows) return;
    this.full.push(current);
    this.fullRows += rowCount(current);
    this.current = [];
  }

  /** Takes the oldest batch, to commit (an empty one when nothing waits). */
  take(): RowBatch {
    const batch = this.full.shift();
    if (batch !== undefined) {
      this.fullRows -= rowCount(batch);
      return batch;
    }
    const current = this.current;
    this.current = [];
    return current;
  }

  /**
   * Puts the rows of a commit that did not happen back, before every row queued since (which are
   * newer): at the head of the oldest batch when they fit in it, else as a batch of their own before
   * it. So the next commit retries them together with what came meanwhile, as one batch while they
   * fit: a commit that takes every row waiting is the one that settles the callers waiting for a
   * commit (./sqlite-log.ts), and a lone retried batch before a newer one would keep them waiting
   * while commits fail.
   */
  requeue(rows: RowBatch): void {
    const count = rowCount(rows);
    if (count === 0) return;
    const oldest = this.full[0] ?? this.current;
    if (rowCount(oldest) + count > this.batchRows) {
      this.full.unshift(rows);
      this.fullRows += count;
      return;
    }
    const merged = rows.concat(oldest);
    if (oldest !== this.current) {
      this.full[0] = merged;
      this.fullRows += count;
    } else if (rowCount(merged) === this.batchRows) {
      this.full.push(merged);
      this.fullRows += count + rowCount(oldest);
      this.current = [];
    } else {
      this.current = merged;
    }
  }

  /** Takes every row waiting, oldest first, as one batch. */
  drain(): RowBatch {
    const all = ([] as string[]).concat(...this.full, this.current);
    this.full.length = 0;
    this.fullRows = 0;
    this.current = [];
    return all;
  }
}
