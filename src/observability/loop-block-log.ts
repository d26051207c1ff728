/**
 * The `loop-blocked` log event (docs/operations.md "Logs"): an event-loop turn with work that was
 * busier than {@link LOOP_BLOCK_MS}, as ./loop-delay.ts measures it. A warning, at most one line a
 * second (a loaded machine can block every turn); `suppressed` counts the blocks not logged since the
 * last line, and `herd_event_loop_blocks_total` counts them all.
 */
import type { Logger } from './logger.js';
import { LogThrottle } from './log-throttle.js';
import { LOOP_BLOCK_MS } from './metrics-settings.js';

/**
 * @param logger - the server's logger.
 * @param throttle - when to log. @default one line a second
 * @returns the callback for `MetricsObserverOptions.onLoopBlock`: takes the turn's busy time, ms.
 */
export function loopBlockLog(logger: Logger, throttle: LogThrottle = new LogThrottle()): (busyMs: number) => void {
  return (busyMs) => {
    const suppressed = throttle.take();
    if (suppressed === undefined) return;
    const ms = Math.round(busyMs * 10) / 10;
    logger.warn(
      { event: 'loop-blocked', ms, boundMs: LOOP_BLOCK_MS, suppressed },
      `event loop blocked for ${ms} ms (bound ${LOOP_BLOCK_MS} ms)`,
    );
  };
}
