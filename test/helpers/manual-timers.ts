/**
 * Timers a test moves by hand (the {@link Timers} a server takes): `advance(ms)` runs every timer
 * that falls due, in order, with `now()` at its due time, so timeouts are tested without sleeping.
 */
import type { TimerHandle, Timers } from '../../src/core/timers.js';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** A monotonic clock and timers that move only when the test says so. */
export class ManualTimers implements Timers {
  private nowMs = 0;
  private seq = 0;
  private readonly scheduled = new Map<TimerHandle, Scheduled>();

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle = { timer: ++this.seq };
    this.scheduled.set(handle, { at: this.nowMs + Math.max(0, ms), seq: this.seq, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.scheduled.delete(handle);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.scheduled.size;
  }

  /** Moves the clock `ms` forward, firing each timer due on the way (timers they set included). */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      let next: [TimerHandle, Scheduled] | undefined;
      for (const entry of this.scheduled) {
        const [, timer] = entry;
        if (
          timer.at <= target &&
          (next === undefined || timer.at < next[1].at || (timer.at === next[1].at && timer.seq < next[1].seq))
        )
          next = entry;
      }
      if (next === undefined) break;
      this.scheduled.delete(next[0]);
      // A timer overdue after block() fires late, at the current time: the clock never goes back.
      this.nowMs = Math.max(this.nowMs, next[1].at);
      next[1].callback();
    }
    this.nowMs = target;
  }

  /**
   * Moves the clock `ms` forward without firing anything, as a blocked event loop does: timers that
   * fall due meanwhile fire late, at the next {@link advance} (`advance(0)` fires them now).
   */
  block(ms: number): void {
    this.nowMs += ms;
  }
}
