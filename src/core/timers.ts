/**
 * Time as the server's timeouts see it: a monotonic clock and one-shot timers, behind one small
 * interface so that tests drive idle, handshake, slow-reader and reconnect timeouts without sleeping
 * (the pattern of MQTT.js `get-timer.ts` and undici's fake timers), and the end of an event-loop turn
 * behind another ({@link TurnClock}), for the work that waits for a turn's I/O. The wall clock that
 * stamps AT lines is a separate injection (`WallClock`, src/protocol/time.ts).
 */

/** An opaque handle of a timer set with {@link Timers.setTimeout} (a Node `Timeout` for {@link SYSTEM_TIMERS}). */
export type TimerHandle = object;

/** A monotonic clock and one-shot timers. */
export interface Timers {
  /** Monotonic milliseconds (any origin; only differences mean something). */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds; returns a handle for {@link clearTimeout}. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer; `undefined` or a timer that already fired is fine. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Node's own timers and `performance.now()`: what a server uses unless a test injects others. */
export const SYSTEM_TIMERS: Timers = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/** A monotonic clock and the end of the current event-loop turn; tests inject their own, which they end by hand. */
export interface TurnClock {
  /** Monotonic time, ms. */
  now(): number;
  /** Runs `callback` once the current turn's I/O callbacks are done (`setImmediate`). */
  afterTurn(callback: () => void): void;
}

/** `performance.now()` and `setImmediate`: what a server uses unless a test injects another. */
export const SYSTEM_TURN_CLOCK: TurnClock = {
  now: () => performance.now(),
  afterTurn: (callback) => void setImmediate(callback),
};

/** Resolves in a later turn of the event loop, once the I/O ready now has been handled (`setImmediate`). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * One timer that calls `callback` at a given time on `timers`' clock or later, never before. Node's
 * timers count whole milliseconds of the loop's time, cached when the turn began, so one can fire
 * before its delay has passed by `performance.now()`; it is then armed again for the rest (at least
 * 1 ms). Made once and set again as often as needed: setting it allocates nothing (a heartbeat
 * ticker sets it every interval on an idle server).
 */
export class TimerAt {
  private readonly timers: Timers;
  private readonly callback: () => void;
  private handle: TimerHandle | undefined;
  private dueMs = 0;
  private readonly fire = (): void => {
    this.handle = undefined;
    if (this.timers.now() < this.dueMs) this.arm();
    else this.callback();
  };

  constructor(timers: Timers, callback: () => void) {
    this.timers = timers;
    this.callback = callback;
  }

  /** Whether a call is pending (set, and neither fired nor cleared). */
  get pending(): boolean {
    return this.handle !== undefined;
  }

  /**
   * Calls the callback at `atMs` or later, in place of any pending call.
   *
   * @param atMs - when, on `timers.now()`'s clock, ms
   */
  set(atMs: number): void {
    this.clear();
    this.dueMs = atMs;
    this.arm();
  }

  /** Cancels the pending call, if any. */
  clear(): void {
    if (this.handle === undefined) return;
    this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private arm(): void {
    this.handle = this.timers.setTimeout(this.fire, Math.max(1, this.dueMs - this.timers.now()));
  }
}

/**
 * Sets a deadline whose verdict waits for the I/O of the turn in which it fires: `verdict` runs `ms`
 * after now on `timers`, then once that turn's I/O callbacks have run (`setImmediate`). libuv runs due
 * timers before it polls for I/O, so after an event loop blocked past the deadline (a busy start)
 * what the kernel delivered meanwhile (a connection made, a neighbour's AUTH) is seen before the
 * verdict, which checks whether what it waited for came. Clearing the handle before the timer fires
 * cancels the verdict; once it has fired, `verdict` runs regardless.
 *
 * @param ms - the deadline, ms from now
 * @returns the timer's handle, for {@link Timers.clearTimeout}
 */
export function setDeadlineAfterIo(timers: Timers, ms: number, verdict: () => void): TimerHandle {
  return timers.setTimeout(() => void setImmediate(verdict), ms);
}
