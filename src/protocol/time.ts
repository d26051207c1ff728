/**
 * POSIX times and time differences, exact to the nanosecond (docs/protocol.md "IAMAT"). Client
 * times carry up to nine fractional digits, more than a double can hold next to ten integer digits, so
 * every computation here is on `bigint` nanoseconds.
 */

/** Nanoseconds in one second. */
export const NANOS_PER_SECOND = 1_000_000_000n;

/** Seconds, then an optional fraction of one to nine digits. No sign, no exponent. */
export const POSIX_TIME = /^(\d+)(?:\.(\d{1,9}))?$/;

/** Padding for fractional digits; index n holds n zeros. */
const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000', '00000000', '000000000'];

/**
 * Parses a client's POSIX time, e.g. `1621464827.959498503`.
 *
 * @param text - decimal seconds since 1970-01-01T00:00:00Z: digits, then optionally `.` and 1-9 digits.
 * @returns the time in integer nanoseconds, or `undefined` when `text` is not of that form.
 */
export function parsePosixTime(text: string): bigint | undefined {
  const match = POSIX_TIME.exec(text);
  if (match === null) return undefined;
  const seconds = BigInt(match[1] as string);
  const fraction = match[2];
  if (fraction === undefined) return seconds * NANOS_PER_SECOND;
  return seconds * NANOS_PER_SECOND + BigInt(fraction + (ZEROS[9 - fraction.length] as string));
}

/**
 * Formats a POSIX time as a client sends it: whole seconds, a point and exactly nine fractional
 * digits, e.g. `1621464827.959498503` (the inverse of {@link parsePosixTime}).
 *
 * @param timeNs - nanoseconds since 1970-01-01T00:00:00Z, not negative.
 */
export function formatPosixTime(timeNs: bigint): string {
  const fraction = (timeNs % NANOS_PER_SECOND).toString();
  return `${timeNs / NANOS_PER_SECOND}.${ZEROS[9 - fraction.length] as string}${fraction}`;
}

/**
 * Formats a time difference as the AT reply prints it: always a sign (`+` for zero), the whole
 * seconds, a point and exactly nine fractional digits, e.g. `+0.263873386` or `-3.000000001`.
 *
 * @param differenceNs - the difference in nanoseconds (server receive time minus client time).
 */
export function formatTimeDifference(differenceNs: bigint): string {
  const negative = differenceNs < 0n;
  const magnitude = negative ? -differenceNs : differenceNs;
  const seconds = magnitude / NANOS_PER_SECOND;
  const fraction = (magnitude % NANOS_PER_SECOND).toString();
  return `${negative ? '-' : '+'}${seconds}.${ZEROS[9 - fraction.length] as string}${fraction}`;
}

/** A source of the current wall-clock time in POSIX nanoseconds. Injected so tests control time. */
export interface WallClock {
  /** The current POSIX time in nanoseconds. */
  nowNs(): bigint;
}

/**
 * A wall clock with sub-microsecond resolution that still follows the system clock. `Date.now()`
 * alone only has millisecond resolution; a monotonic clock alone drifts from the system clock as NTP
 * adjusts it. This anchors the monotonic clock to `Date.now()` and re-anchors whenever the two part
 * by more than {@link SystemWallClock.MAX_SKEW_NS}.
 */
export class SystemWallClock implements WallClock {
  /** Re-anchor when the monotonic estimate and `Date.now()` differ by more than this (2 ms). */
  static readonly MAX_SKEW_NS = 2_000_000n;
  private anchorWallNs = 0n;
  private anchorMonoNs = 0n;

  constructor() {
    this.anchor();
  }

  private anchor(): void {
    this.anchorWallNs = BigInt(Date.now()) * 1_000_000n;
    this.anchorMonoNs = process.hrtime.bigint();
  }

  nowNs(): bigint {
    const estimate = this.anchorWallNs + (process.hrtime.bigint() - this.anchorMonoNs);
    const wallNs = BigInt(Date.now()) * 1_000_000n;
    const skew = estimate - wallNs;
    // Date.now() truncates to the millisecond, so the estimate is normally 0-1 ms ahead of it.
    if (skew > SystemWallClock.MAX_SKEW_NS || skew < -SystemWallClock.MAX_SKEW_NS) {
      this.anchor();
      return this.anchorWallNs;
    }
    return estimate;
  }
}
