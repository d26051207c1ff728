/**
 * Rewriting a server's whole in-memory table into its store, a batch per commit, after the file lost
 * rows: it was replaced by a new one (removed, or moved aside as corrupt) or rows were dropped from
 * the queue while commits failed (docs/operations.md "When the store cannot write").
 */

import { rowCount, type RowBatch } from './pending-rows.js';

/** The in-memory table a store mirrors (src/store/location-store.ts's `LocationStore`). */
export interface MirroredTable {
  /** Client ids held. */
  readonly size: number;
  /**
   * Every stored AT line, each once (a live iterator: lines stored meanwhile may come too). Fields
   * are separated by single spaces; the client id is the fourth.
   */
  atLines(): IterableIterator<string>;
}

/** The client id of a stored AT line (`AT <server> <difference> <client id> <location> <time>`). */
function clientIdOf(atLine: string): string {
  const start = atLine.indexOf(' ', atLine.indexOf(' ', 3) + 1) + 1;
  return atLine.slice(start, atLine.indexOf(' ', start));
}

/**
 * One pass over the table. Reading it live is safe: a batch holds each client's newest line at the
 * time it is taken, and what is stored later goes into a later commit anyway.
 */
export class TableRewrite {
  private readonly lines: IterableIterator<string>;
  private left: number;
  private finished = false;

  constructor(table: MirroredTable) {
    this.lines = table.atLines();
    this.left = table.size;
  }

  /** Rows still to write (an estimate: the table may grow meanwhile). */
  get remaining(): number {
    return this.finished ? 0 : this.left;
  }

  /** Whether every line was handed out. */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Appends rows to `rows` until it holds `max` rows or the pass ends. A client that has a row in
   * `rows` already gets the table's line after it, which is as new or newer (the table is what the
   * store's rows were taken from), so the commit keeps it.
   */
  fill(rows: RowBatch, max: number): void {
    while (!this.finished && rowCount(rows) < max) {
      const next = this.lines.next();
      if (next.done === true) {
        this.finished = true;
        return;
      }
      this.left = Math.max(0, this.left - 1);
      const clientId = clientIdOf(next.value);
      rows.push(clientId, next.value);
    }
  }

  /** Everything left, for the last commit at close. */
  rest(rows: RowBatch): void {
    this.fill(rows, Number.POSITIVE_INFINITY);
  }
}
