/**
 * Reconnect delays: exponential backoff with a cap and jitter, so a herd whose members restart
 * together does not re-dial in lock step.
 */

/** Default first retry delay, in milliseconds. */
export const RECONNECT_BASE_DELAY_MS = 100;
/** Default largest retry delay, in milliseconds. */
export const RECONNECT_MAX_DELAY_MS = 2000;

/** Settings of {@link exponentialBackoff}. */
export interface BackoffOptions {
  /** Delay before the first retry, ms. @default {@link RECONNECT_BASE_DELAY_MS} */
  baseDelayMs?: number;
  /** Largest delay, ms. @default {@link RECONNECT_MAX_DELAY_MS} */
  maxDelayMs?: number;
  /** Source of uniform randoms in [0, 1). @default Math.random */
  random?: () => number;
}

/** Maps a 0-based retry attempt to the delay before it, in milliseconds. */
export type Backoff = (attempt: number) => number;

/**
 * "Equal jitter" backoff: the ceiling doubles per attempt from `baseDelayMs` up to `maxDelayMs`, and
 * the delay is drawn uniformly from [ceiling / 2, ceiling).
 */
export function exponentialBackoff(options: BackoffOptions = {}): Backoff {
  const base = options.baseDelayMs ?? RECONNECT_BASE_DELAY_MS;
  const max = options.maxDelayMs ?? RECONNECT_MAX_DELAY_MS;
  const random = options.random ?? Math.random;
  return (attempt) => {
    const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
    const delay = ceiling / 2 + random() * (ceiling / 2);
    // For random() within 2^-53 of 1 the sum rounds up to the ceiling itself; keep [ceiling/2, ceiling).
    return delay < ceiling ? delay : ceiling / 2;
  };
}
