/**
 * The rows a durable store has not handed to its writer yet (./sqlite-log.ts), kept as a queue of
 * batches of at most `batchRows` rows each, so that a commit takes the oldest batch as it is.
 *
 * Why batches: under a burst the rows arrive faster than the writer commits them, and a commit takes
 * at most {@link COMMIT_MAX_ROWS}. Taking them out of one map, row by row into a new one and deleting
 * each from the old, was 11% of a flood-loaded server's busy time (docs/benchmarks.md "Cost per
 * operation", 2026-12-03). A client updated again after its batch filled has a row in a later batch
 * too: batches are committed in order, so its newest row lands last.
 */
import { COMMIT_MAX_ROWS } from './store-settings.js';

/** Rows waiting for a commit: client id -> AT line, binary strings. */
export class PendingRows {
  private readonly batchRows: number;
  /** Full batches, oldest first. */
  private readonly full: Map<string, string>[] = [];
  /** The batch being filled. */
  private current = new Map<string, string>();
  private fullRows = 0;

  /** @param batchRows - most rows in one batch, the most one commit takes. @default {@link COMMIT_MAX_ROWS} */
  constructor(batchRows: number = COMMIT_MAX_ROWS) {
    this.batchRows = batchRows;
  }

  /** Rows waiting (a client with rows in two batches counts twice). */
  get size(): number {
    return this.fullRows + this.current.size;
  }

  /** Whether a row of `clientId` is waiting. */
  has(clientId: string): boolean {
    if (this.current.has(clientId)) return true;
    for (const batch of this.full) if (batch.has(clientId)) return true;
    return false;
  }

  /** Queues the newest row of `clientId` (it replaces one in the batch being filled). */
  set(clientId: string, atLine: string): void {
    this.current.set(clientId, atLine);
    if (this.current.size < this.batchRows) return;
    this.full.push(this.current);
    this.fullRows += this.current.size;
    this.current = new Map();
  }

  /** Takes the oldest batch, to commit (a new empty map when nothing waits). */
  take(): Map<string, string> {
    const batch = this.full.shift();
    if (batch !== undefined) {
      this.fullRows -= batch.size;
      return batch;
    }
    const current = this.current;
    this.current = new Map();
    return current;
  }

  /**
   * Puts the rows of a commit that did not happen back, without the clients that have a newer row
   * waiting: into the oldest batch when they fit beside it, else as a batch of their own before it.
   * So the next commit retries them together with what came meanwhile, as one batch while they fit:
   * a commit that takes every row waiting is the one that settles the callers waiting for a commit
   * (./sqlite-log.ts), and a lone retried batch before a newer one would keep them waiting while
   * commits fail.
   */
  requeue(rows: Map<string, string>): void {
    for (const clientId of rows.keys()) if (this.has(clientId)) rows.delete(clientId);
    if (rows.size === 0) return;
    const oldest = this.full[0] ?? this.current;
    if (oldest.size + rows.size > this.batchRows) {
      this.full.unshift(rows);
      this.fullRows += rows.size;
      return;
    }
    for (const [clientId, atLine] of rows) oldest.set(clientId, atLine);
    if (oldest !== this.current) this.fullRows += rows.size;
    else if (this.current.size === this.batchRows) {
      this.full.push(this.current);
      this.fullRows += this.current.size;
      this.current = new Map();
    }
  }

  /** Takes every row waiting, as one map holding the newest row of each client. */
  drain(): Map<string, string> {
    const all = new Map<string, string>();
    for (const batch of [...this.full, this.current]) for (const [clientId, atLine] of batch) all.set(clientId, atLine);
    this.full.length = 0;
    this.fullRows = 0;
    this.current = new Map();
    return all;
  }
}
