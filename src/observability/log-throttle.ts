/**
 * At most one log line per interval for an event that can repeat thousands of times a second (a
 * refused connection, a failing commit): the first occurrence is logged at once, the next ones are
 * counted and reported with the next line logged.
 */

/** How often a repeating fault is logged at most, ms (docs/operations.md "Logs"). */
export const REPEATED_FAULT_LOG_INTERVAL_MS = 1000;

/** Decides, for each occurrence of one kind of event, whether to log it now. */
export class LogThrottle {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  /**
   * @param intervalMs - at most one line per this many ms. @default {@link REPEATED_FAULT_LOG_INTERVAL_MS}
   * @param now - a monotonic clock, ms. @default `performance.now`
   */
  constructor(intervalMs = REPEATED_FAULT_LOG_INTERVAL_MS, now: () => number = () => performance.now()) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /**
   * Notes one occurrence.
   *
   * @returns `undefined` when it must not be logged (it is counted instead); otherwise the number of
   *   occurrences not logged since the last line, to put in this one.
   */
  take(): number | undefined {
    const now = this.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.suppressed++;
      return undefined;
    }
    this.lastLoggedAt = now;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return suppressed;
  }
}
