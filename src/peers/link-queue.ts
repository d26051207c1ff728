/**
 * The lines waiting for one outgoing link (./outgoing-link.ts): appended one at a time, taken in
 * batches of at most a bound, and dropped whole at the link's queue bound. Taken lines are skipped
 * by an index and dropped in bulk, so a batch costs no shift of the array.
 */
/**
 * Most lines in one write to the socket. A longer queue (a reconciliation, a burst after a stall)
 * goes out over several event-loop turns, so no write holds the loop or builds one huge string.
 */
export const MAX_LINES_PER_WRITE = 4096;

export class LinkQueue {
  /** Lines waiting (binary strings), from {@link head} on. */
  private lines: string[] = [];
  private head = 0;

  /** Lines waiting. */
  get size(): number {
    return this.lines.length - this.head;
  }

  /** Appends one line (without terminator). */
  push(line: string): void {
    this.lines.push(line);
  }

  /** Drops every waiting line; returns how many there were. */
  clear(): number {
    const dropped = this.size;
    this.lines = [];
    this.head = 0;
    return dropped;
  }

  /** Takes the oldest lines, at most `max` (none when empty). */
  take(max: number): string[] {
    if (this.size <= max && this.head === 0) {
      const all = this.lines;
      this.lines = [];
      return all;
    }
    const end = Math.min(this.lines.length, this.head + max);
    const batch = this.lines.slice(this.head, end);
    this.head = end;
    if (this.head === this.lines.length) {
      this.lines = [];
      this.head = 0;
    } else if (this.head > this.lines.length / 2) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
    return batch;
  }
}
