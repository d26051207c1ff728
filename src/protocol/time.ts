/**
 * POSIX times and time differences, exact to the nanosecond (docs/protocol.md#iamat). A client's
 * time has up to nine fractional digits, more than a double holds beside ten integer digits, so a
 * time is kept as whole seconds and the nanoseconds within that second, each an exact integer
 * ({@link PosixInstant}). Times are read from bytes where they arrive and written as bytes where they
 * leave; `bigint` nanoseconds are the reference form for tests and for seconds beyond 2^53.
 */

import { isDigit, MINUS, PLUS, POINT, ZERO } from './bytes.js';

/** Nanoseconds in one second. */
export const NANOS_PER_SECOND = 1_000_000_000n;

const NS = 1_000_000_000;

/** Seconds, then an optional fraction of one to nine digits. No sign, no exponent. */
export const POSIX_TIME = /^(\d+)(?:\.(\d{1,9}))?$/;

/** Padding for fractional digits; index n holds n zeros. */
const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000', '00000000', '000000000'];

/** A POSIX time: whole seconds since 1970-01-01T00:00:00Z and the nanoseconds within that second. */
export interface PosixInstant {
  /** Whole seconds, a safe integer (not negative for a POSIX time read from a line). */
  seconds: number;
  /** Nanoseconds within the second, an integer in [0, 1e9). */
  nanoseconds: number;
}

/**
 * Whether `bytes[start, end)` is a POSIX time as a client writes it (docs/protocol.md#iamat):
 * digits, then optionally `.` and one to nine digits.
 */
export function isPosixTime(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && isDigit(bytes[i] as number)) i++;
  if (i === start) return false;
  if (i === end) return true;
  if (bytes[i] !== POINT) return false;
  const fraction = end - i - 1;
  if (fraction < 1 || fraction > 9) return false;
  for (i++; i < end; i++) if (!isDigit(bytes[i] as number)) return false;
  return true;
}

/**
 * Reads a POSIX time that {@link isPosixTime} accepted into `out`.
 *
 * @returns false when its whole seconds are beyond `Number.MAX_SAFE_INTEGER` (read it with
 *   {@link parsePosixTime} instead); `out` is then unspecified.
 */
export function readPosixTime(bytes: Uint8Array, start: number, end: number, out: PosixInstant): boolean {
  let seconds = 0;
  let i = start;
  while (i < end && bytes[i] !== POINT) {
    seconds = seconds * 10 + ((bytes[i] as number) - ZERO);
    i++;
  }
  if (seconds > Number.MAX_SAFE_INTEGER) return false;
  let nanoseconds = 0;
  let scale = NS;
  for (i++; i < end; i++) {
    scale /= 10;
    nanoseconds += ((bytes[i] as number) - ZERO) * scale;
  }
  out.seconds = seconds;
  out.nanoseconds = nanoseconds;
  return true;
}

/**
 * Parses a client's POSIX time, e.g. `1621464827.959498503` (the reference form, any size).
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

/** Most bytes {@link writeTimeDifference} writes: a sign, 16 digits of seconds, a point, nine digits. */
export const MAX_TIME_DIFFERENCE_BYTES = 27;

/**
 * Writes `later - earlier` as the AT reply prints a time difference (see {@link formatTimeDifference})
 * into `out` at `offset`, exactly, in integer arithmetic on safe integers.
 *
 * @returns the offset after the last byte written (at most {@link MAX_TIME_DIFFERENCE_BYTES} bytes).
 */
export function writeTimeDifference(
  out: Uint8Array,
  offset: number,
  later: PosixInstant,
  earlier: PosixInstant,
): number {
  let seconds = later.seconds - earlier.seconds;
  let nanoseconds = later.nanoseconds - earlier.nanoseconds;
  if (nanoseconds < 0) {
    seconds -= 1;
    nanoseconds += NS;
  }
  let negative = false;
  if (seconds < 0) {
    negative = true;
    // -(s + n/1e9) with s < 0 and n in [0, 1e9): magnitude is (-s - 1) + (1e9 - n)/1e9, or -s when n = 0.
    if (nanoseconds === 0) {
      seconds = -seconds;
    } else {
      seconds = -seconds - 1;
      nanoseconds = NS - nanoseconds;
    }
  }
  let at = offset;
  out[at++] = negative ? MINUS : PLUS;
  at = writeDigits(out, at, seconds);
  out[at++] = POINT;
  for (let scale = NS / 10; scale >= 1; scale /= 10) {
    const digit = Math.floor(nanoseconds / scale);
    out[at++] = ZERO + digit;
    nanoseconds -= digit * scale;
  }
  return at;
}

/** Writes the decimal digits of a non-negative safe integer; returns the offset after them. */
export function writeDigits(out: Uint8Array, offset: number, value: number): number {
  let length = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) length++;
  let rest = value;
  for (let i = offset + length - 1; i >= offset; i--) {
    const digit = rest % 10;
    out[i] = ZERO + digit;
    rest = (rest - digit) / 10;
  }
  return offset + length;
}

/**
 * `later - earlier` in nanoseconds, as a double: exact while its magnitude is below 2^53 ns (about 104
 * days), and within a part in 2^53 beyond. What a bound such as `limits.maxFutureSkewMs` is checked
 * against.
 */
export function differenceNs(later: PosixInstant, earlier: PosixInstant): number {
  return (later.seconds - earlier.seconds) * NS + (later.nanoseconds - earlier.nanoseconds);
}

/** The instant `ns` nanoseconds after the epoch (before it, for a negative `ns`). */
export function instantOfNs(ns: bigint): PosixInstant {
  let seconds = ns / NANOS_PER_SECOND;
  let nanoseconds = ns % NANOS_PER_SECOND;
  if (nanoseconds < 0n) {
    seconds -= 1n;
    nanoseconds += NANOS_PER_SECOND;
  }
  return { seconds: Number(seconds), nanoseconds: Number(nanoseconds) };
}

/** An instant as nanoseconds since the epoch (the reference form). */
export function nsOfInstant(instant: PosixInstant): bigint {
  return BigInt(instant.seconds) * NANOS_PER_SECOND + BigInt(instant.nanoseconds);
}

/** A source of the current wall-clock time. Injected so tests control time. */
export interface WallClock {
  /** The current POSIX time. The caller may keep the object it gets only until the next call. */
  now(): PosixInstant;
}

/** A clock that always reads `ns` nanoseconds after the epoch (tests, tools). */
export function fixedWallClock(ns: bigint): WallClock {
  const instant = instantOfNs(ns);
  return { now: () => instant };
}

/**
 * A wall clock with sub-microsecond resolution that still follows the system clock. `Date.now()`
 * alone only has millisecond resolution; a monotonic clock alone drifts from the system clock as NTP
 * adjusts it. This anchors the monotonic clock (`performance.now()`, microseconds) to `Date.now()`
 * and re-anchors whenever the two part by more than {@link SystemWallClock.MAX_SKEW_MS}. Reading it
 * allocates nothing: it returns the same object, updated.
 */
export class SystemWallClock implements WallClock {
  /** Re-anchor when the monotonic estimate and `Date.now()` differ by more than this, ms. */
  static readonly MAX_SKEW_MS = 2;
  private anchorWallMs = 0;
  private anchorMonoMs = 0;
  private readonly instant: PosixInstant = { seconds: 0, nanoseconds: 0 };

  constructor() {
    this.anchor();
  }

  private anchor(): void {
    this.anchorWallMs = Date.now();
    this.anchorMonoMs = performance.now();
  }

  now(): PosixInstant {
    let elapsedMs = performance.now() - this.anchorMonoMs;
    const wallMs = Date.now();
    // Date.now() truncates to the millisecond, so the estimate is normally 0-1 ms ahead of it.
    const skew = this.anchorWallMs + elapsedMs - wallMs;
    if (skew > SystemWallClock.MAX_SKEW_MS || skew < -SystemWallClock.MAX_SKEW_MS) {
      this.anchor();
      elapsedMs = 0;
    }
    // Whole milliseconds of the anchor are exact; the elapsed part is rounded to the nanosecond.
    const wholeMs = this.anchorWallMs;
    const elapsedNs = Math.round(elapsedMs * 1_000_000);
    const seconds = Math.floor(wholeMs / 1000);
    let nanoseconds = (wholeMs - seconds * 1000) * 1_000_000 + elapsedNs;
    const carry = Math.floor(nanoseconds / NS);
    nanoseconds -= carry * NS;
    this.instant.seconds = seconds + carry;
    this.instant.nanoseconds = nanoseconds;
    return this.instant;
  }
}
