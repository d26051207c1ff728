/**
 * Reads in slices: a socket with a backlog (a client pipelining thousands of lines) is read by libuv
 * up to 32 times in one event-loop turn, 64 KiB each, and every chunk is handled at once: 2 MiB of
 * lines is a turn of several hundred ms in which nothing else is answered. Here the big chunks of one
 * turn share {@link READ_SLICE_MS}; once it is spent, each reader pauses its stream after the chunk in
 * hand, and the paused streams resume at the end of the next turn (`setImmediate` twice), after its
 * timers and the reads of every other socket: a backlog is then read about a chunk a turn, and the
 * loop answers everything else in between.
 *
 * Client connections only (src/server/line-connection.ts). Links are read whole: a client that
 * checks in at a neighbour and at once asks this server must find the flood here, and a paused link
 * would let the question pass it (test/integration/restart-flood.test.ts).
 *
 * Chunks under {@link SLICED_CHUNK_BYTES} cost one comparison: libuv stops reading a socket at a read
 * that does not fill its buffer, so only full buffers can be a backlog.
 */
import { LOOP_BLOCK_MS } from '../observability/metrics-settings.js';

/** A chunk this long or longer is timed, bytes; a shorter one ends libuv's reads of its socket for the turn. */
export const SLICED_CHUNK_BYTES = 16 * 1024;

/** The time the big chunks of one event-loop turn may take before their streams wait for the next turn, ms. */
export const READ_SLICE_MS = LOOP_BLOCK_MS / 2;

/** What the slices are timed with; tests inject their own. */
export interface SliceClock {
  /** Monotonic time, ms. */
  now(): number;
  /** Runs `callback` once the current turn's I/O callbacks are done (`setImmediate`). */
  afterTurn(callback: () => void): void;
}

const SYSTEM_SLICE_CLOCK: SliceClock = {
  now: () => performance.now(),
  afterTurn: (callback) => void setImmediate(callback),
};

/** The reads of one event loop (one per process: {@link READ_SLICES}; tests make their own). */
export class ReadSlices {
  private readonly clock: SliceClock;
  private turnStartMs = -1;
  private waiting: (() => void)[] = [];
  private pausedCount = 0;

  /** @param clock - the loop's clock. @default `performance.now` and `setImmediate` */
  constructor(clock: SliceClock = SYSTEM_SLICE_CLOCK) {
    this.clock = clock;
  }

  /** Streams paused by a spent slice since this was made (for tests and the bench). */
  get pauses(): number {
    return this.pausedCount;
  }

  /**
   * Call before handling a chunk of `bytes` bytes.
   *
   * @returns whether the chunk is timed: then call {@link spent} once it is handled.
   */
  begin(bytes: number): boolean {
    if (bytes < SLICED_CHUNK_BYTES) return false;
    if (this.turnStartMs < 0) {
      this.turnStartMs = this.clock.now();
      this.clock.afterTurn(this.endTurn);
    }
    return true;
  }

  /**
   * Call after handling a timed chunk.
   *
   * @param resume - called once when the turn is over, if this returns true.
   * @returns true when the turn's slice is spent: the caller pauses its stream now (`resume` resumes it).
   */
  spent(resume: () => void): boolean {
    if (this.turnStartMs < 0 || this.clock.now() - this.turnStartMs < READ_SLICE_MS) return false;
    this.pausedCount++;
    this.waiting.push(resume);
    return true;
  }

  /**
   * Call after handling a timed chunk of `stream`: pauses it when the turn's slice is spent, and
   * resumes it once the turn is over unless `mayResume` then says no (the reader paused it for its
   * own reasons meanwhile, or ended).
   */
  pauseIfSpent(stream: { pause(): unknown; resume(): unknown }, mayResume: () => boolean = () => true): void {
    if (this.spent(() => mayResume() && stream.resume())) stream.pause();
  }

  private readonly endTurn = (): void => {
    this.turnStartMs = -1;
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    // At the end of the next turn: its timers and every other socket's reads come first.
    this.clock.afterTurn(() => {
      for (const resume of waiting) resume();
    });
  };
}

/** The process's own loop. */
export const READ_SLICES = new ReadSlices();
