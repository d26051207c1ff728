/**
 * The longest the event loop was blocked in the first moments after a server starts listening
 * (issue "The hot path at the limit": accepting means answering). An IAMAT stamped while the loop
 * was blocked gets a wrong time difference, so nothing may block it for more than 20 ms once the
 * ports accept; this measures whether that held, for the log, `/metrics` and the bench.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** How long after listening the delay is watched, ms. */
export const STARTUP_WATCH_MS = 2000;
/** Sampling period of the monitor, ms (each sample counts it; it is taken off the result). */
export const STARTUP_SAMPLE_MS = 1;

/** What {@link watchStartupDelay} found. */
export interface StartupDelay {
  /** Longest block of the event loop in the window, ms. */
  readonly maxMs: number;
  /** 99th percentile of the loop's delays in the window, ms. */
  readonly p99Ms: number;
  /** The window, ms. */
  readonly windowMs: number;
}

/**
 * Watches the event loop's delay for `windowMs` from now.
 *
 * @returns after the window: the longest and the 99th-percentile delay, sampling period taken off.
 */
export function watchStartupDelay(windowMs: number = STARTUP_WATCH_MS): Promise<StartupDelay> {
  const histogram = monitorEventLoopDelay({ resolution: STARTUP_SAMPLE_MS });
  histogram.enable();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      histogram.disable();
      const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - STARTUP_SAMPLE_MS) * 100) / 100);
      resolve({ maxMs: ms(histogram.max), p99Ms: ms(histogram.percentile(99)), windowMs });
    }, windowMs);
    timer.unref();
  });
}
