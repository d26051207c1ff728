/**
 * A turn clock a test moves by hand (the {@link TurnClock} of src/core/timers.ts): the test sets
 * `nowMs` and calls `endTurn()` where the event loop would end a turn, so what waits for the end of a
 * turn (read slices, loop-delay probes) is tested without an event loop.
 */
import type { TurnClock } from '../../src/core/timers.js';

/** A monotonic clock and turn ends that move only when the test says so. */
export class ManualTurns implements TurnClock {
  /** The clock, ms; the test moves it. */
  nowMs: number;
  private waiting: (() => void)[] = [];

  /** @param startMs - the clock's first reading, ms. @default 0 */
  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  afterTurn(callback: () => void): void {
    this.waiting.push(callback);
  }

  /** Callbacks waiting for the end of the turn. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Ends the turn: runs the callbacks waiting for it (what they arm waits for the next one). */
  endTurn(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const callback of waiting) callback();
  }
}
