/**
 * The event loop's delay as `/metrics` reports it (`nodejs_eventloop_lag_*_seconds`), measured only
 * while the server has work. Node's monitor (`perf_hooks.monitorEventLoopDelay`) samples with a
 * timer every {@link LOOP_DELAY_RESOLUTION_MS}: a hundred wake-ups a second, which on an idle server
 * cost about 0.9% of a core and were nearly all of its idle CPU. Here the
 * monitor is switched on by the first command or flood after a quiet spell and switched off again
 * once {@link LOOP_DELAY_IDLE_AFTER_MS} pass without any: an idle loop has no delay to measure.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';
import { LOOP_DELAY_RESOLUTION_MS } from './metrics-settings.js';

export { LOOP_DELAY_RESOLUTION_MS } from './metrics-settings.js';

/** The monitor sleeps once no work was noted for this long, ms (checked once per period). */
export const LOOP_DELAY_IDLE_AFTER_MS = 2_000;

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

/** Node's event-loop delay monitor, awake only while there is work. */
export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  private readonly timers: Timers;
  private awake = false;
  private worked = false;
  private timer: TimerHandle | undefined;

  /** @param timers - the clock of the idle check. @default {@link SYSTEM_TIMERS} */
  constructor(timers: Timers = SYSTEM_TIMERS) {
    this.timers = timers;
  }

  /** Whether the monitor is sampling now. */
  get sampling(): boolean {
    return this.awake;
  }

  /** The server did something (a command, a flood): sample from now on. One comparison when awake. */
  noteWork(): void {
    this.worked = true;
    if (this.awake) return;
    this.awake = true;
    this.histogram.enable();
    this.armCheck();
  }

  private armCheck(): void {
    const timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.worked) {
        this.worked = false;
        this.armCheck();
        return;
      }
      this.awake = false;
      this.histogram.disable();
    }, LOOP_DELAY_IDLE_AFTER_MS);
    // A check alone never keeps a process alive (a Node Timeout can be unref'd; a test's cannot).
    (timer as { unref?: () => void }).unref?.();
    this.timer = timer;
  }

  /**
   * The delays sampled since the last read, then forgets them. When nothing was sampled (the loop
   * was idle), one period and no delay.
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
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.awake = false;
    this.histogram.disable();
  }
}
