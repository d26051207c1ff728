/**
 * Reconnect delays: exponential backoff with a cap and jitter, so a herd whose members restart
 * together does not re-dial in lock step.
 */

/** The default first retry delay of a link, ms (`peer.reconnectBaseDelayMs`, via ./link-settings.ts). */
export const RECONNECT_BASE_DELAY_MS = 100;
/** The default largest retry delay of a link, ms (`peer.reconnectMaxDelayMs`, via ./link-settings.ts). */
export const RECONNECT_MAX_DELAY_MS = 2000;

/**
 * Settings of {@link exponentialBackoff}. The delays are not defaulted here: a server's come from its
 * resolved link settings, where the defaults are applied once.
 */
export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  baseDelayMs: number;
  /** Largest delay, ms. */
  maxDelayMs: number;
  /** Source of uniform randoms in [0, 1). @default Math.random */
  random?: () => number;
}

/** Maps a 0-based retry attempt to the delay before it, in milliseconds. */
export type Backoff = (attempt: number) => number;

/**
 * "Equal jitter" backoff: the ceiling doubles per attempt from `baseDelayMs` up to `maxDelayMs`, and
 * the delay is drawn uniformly from [ceiling / 2, ceiling).
 */
export function exponentialBackoff(options: BackoffOptions): Backoff {
  const { baseDelayMs: base, maxDelayMs: max } = options;
  const random = options.random ?? Math.random;
  return (attempt) => {
    const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
    const delay = ceiling / 2 + random() * (ceiling / 2);
    // For random() within 2^-53 of 1 the sum rounds up to the ceiling itself; keep [ceiling/2, ceiling).
    return delay < ceiling ? delay : ceiling / 2;
  };
}
