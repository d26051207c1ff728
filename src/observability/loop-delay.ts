/**
 * The event loop's delay as `/metrics` reports it (`nodejs_eventloop_lag_*_seconds`), measured from
 * the server's own work, with no timer of its own. Node's monitor (`perf_hooks.monitorEventLoopDelay`)
 * samples with a timer every {@link LOOP_DELAY_RESOLUTION_MS}: a hundred wake-ups a second while it
 * runs (0.77% of a core in an otherwise empty process on the reference box), most of a lightly
 * loaded server's wake-ups (docs/benchmarks.md "Wake-ups").
 *
 * Here the first command or flood of an event-loop turn starts a probe: `setImmediate` runs at the end
 * of that turn's I/O, and the sample is the loop's busy time in between (wall time less the time the
 * loop spent waiting for events, from `performance.eventLoopUtilization()`): how long an event that
 * arrived with that work waited for the loop to be free. A block of 60 ms while handling a command
 * reads 60 ms. Turns without a command or flood (an idle server, a timer's own work) are not
 * sampled. Each sample counts one {@link LOOP_DELAY_RESOLUTION_MS} as Node's monitor did, so the
 * figures, `herd status` (which takes the period off) and the alert rules keep their meaning.
 *
 * A sample over {@link LOOP_BLOCK_MS} is a block: counted, the longest kept, and reported to the
 * `onBlock` callback (the server logs it as `loop-blocked`). The busy time is wall time, so a process
 * that waited for a core on a loaded machine reads it as busy too, as its clients did.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { SYSTEM_TURN_CLOCK, type TurnClock } from '../core/timers.js';
import { LOOP_BLOCK_MS, LOOP_DELAY_RESOLUTION_MS } from './metrics-settings.js';

export { LOOP_BLOCK_MS, LOOP_DELAY_RESOLUTION_MS } from './metrics-settings.js';

/** The figures of one scrape, seconds. */
export interface LoopDelay {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** What the monitor reads the loop with: a turn clock and the loop's idle time; tests inject their own. */
export interface LoopClock extends TurnClock {
  /** Time the event loop has spent waiting for events since it started, ms. */
  idleMs(): number;
}

/** The process's own loop. */
export const SYSTEM_LOOP_CLOCK: LoopClock = {
  ...SYSTEM_TURN_CLOCK,
  idleMs: () => performance.eventLoopUtilization().idle,
};

/** The reading of a loop that had nothing to do: one period, no delay. */
const IDLE_READING: LoopDelay = Object.freeze({
  min: LOOP_DELAY_RESOLUTION_MS / 1000,
  max: LOOP_DELAY_RESOLUTION_MS / 1000,
  mean: LOOP_DELAY_RESOLUTION_MS / 1000,
  stddev: 0,
  p50: LOOP_DELAY_RESOLUTION_MS / 1000,
  p90: LOOP_DELAY_RESOLUTION_MS / 1000,
  p99: LOOP_DELAY_RESOLUTION_MS / 1000,
});

/** The event loop's delay, sampled once per turn that had work. */
export class LoopDelayMonitor {
  private readonly histogram: RecordableHistogram = createHistogram();
  private readonly clock: LoopClock;
  private probing = false;
  private closed = false;
  private startedMs = 0;
  private idleAtStartMs = 0;
  private readonly onBlock: ((busyMs: number) => void) | undefined;
  private blockCount = 0;
  private longestBlock = 0;

  /**
   * @param clock - the loop's clock. @default {@link SYSTEM_LOOP_CLOCK}
   * @param onBlock - called with the busy time, ms, of each sampled turn over {@link LOOP_BLOCK_MS}
   *   (at the end of that turn; it must not throw).
   */
  constructor(clock: LoopClock = SYSTEM_LOOP_CLOCK, onBlock?: (busyMs: number) => void) {
    this.clock = clock;
    this.onBlock = onBlock;
  }

  /** Sampled turns busier than {@link LOOP_BLOCK_MS} since the monitor was made. */
  get blocks(): number {
    return this.blockCount;
  }

  /** The busiest of those turns, ms; 0 before the first. */
  get longestBlockMs(): number {
    return this.longestBlock;
  }

  /** Whether a probe is waiting for the end of the turn. */
  get sampling(): boolean {
    return this.probing;
  }

  /** The server did something (a command, a flood). One comparison when the turn is already probed. */
  noteWork(): void {
    if (this.probing || this.closed) return;
    this.probing = true;
    this.startedMs = this.clock.now();
    this.idleAtStartMs = this.clock.idleMs();
    this.clock.afterTurn(this.probe);
  }

  private readonly probe = (): void => {
    this.probing = false;
    if (this.closed) return;
    const busyMs = this.clock.now() - this.startedMs - (this.clock.idleMs() - this.idleAtStartMs);
    this.histogram.record(Math.max(1, Math.round((LOOP_DELAY_RESOLUTION_MS + Math.max(0, busyMs)) * 1e6)));
    if (busyMs > LOOP_BLOCK_MS) {
      this.blockCount++;
      if (busyMs > this.longestBlock) this.longestBlock = busyMs;
      this.onBlock?.(busyMs);
    }
  };

  /**
   * The delays sampled since the last read, then forgets them. When nothing was sampled (the loop
   * had no work), one period and no delay.
   */
  read(): LoopDelay {
    const histogram = this.histogram;
    if (histogram.count === 0) return IDLE_READING;
    const reading: LoopDelay = {
      min: histogram.min / 1e9,
      max: histogram.max / 1e9,
      mean: histogram.mean / 1e9,
      stddev: histogram.stddev / 1e9,
      p50: histogram.percentile(50) / 1e9,
      p90: histogram.percentile(90) / 1e9,
      p99: histogram.percentile(99) / 1e9,
    };
    histogram.reset();
    return reading;
  }

  /**
   * The p99 of the delays sampled since the last {@link read}, seconds, without forgetting them (so
   * that `/status` takes nothing from the next scrape); one period when nothing was sampled.
   */
  peekP99(): number {
    const histogram = this.histogram;
    return histogram.count === 0 ? IDLE_READING.p99 : histogram.percentile(99) / 1e9;
  }

  /** Stops sampling for good. */
  close(): void {
    this.closed = true;
  }
}
