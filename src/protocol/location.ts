/**
 * ISO 6709 locations in decimal degrees as the protocol uses them: latitude then longitude, each with
 * its own sign, e.g. `+34.068930-118.445127` (docs/protocol.md#iamat). The rule is checked on the
 * bytes as they arrive, and the range on the decimal text itself, so no rounding lets
 * `+90.0000000000000001` in; the numbers are read only when someone needs them (a places look-up).
 */

import { isDigit, MINUS, PLUS, POINT, ZERO } from './bytes.js';

/** A point on the Earth in decimal degrees (WGS 84). */
export interface LatLng {
  /** Degrees north, in [-90, 90]. */
  readonly latitude: number;
  /** Degrees east, in [-180, 180]. */
  readonly longitude: number;
}

/**
 * Checks one signed decimal coordinate starting at `start` (a sign, at least one digit, optionally a
 * point and at least one digit) whose value must lie in [-limit, limit].
 *
 * @returns the offset after it, or -1 when it is malformed or out of range.
 */
function scanCoordinate(bytes: Uint8Array, start: number, end: number, limit: number): number {
  if (start >= end || (bytes[start] !== PLUS && bytes[start] !== MINUS)) return -1;
  let i = start + 1;
  // The integer part, its leading zeros skipped, compared with the limit digit by digit.
  while (i < end - 1 && bytes[i] === ZERO && isDigit(bytes[i + 1] as number)) i++;
  const integerStart = i;
  let integer = 0;
  while (i < end && isDigit(bytes[i] as number)) {
    if (i - integerStart < 4) integer = integer * 10 + ((bytes[i] as number) - ZERO);
    i++;
  }
  if (i === integerStart || i - integerStart > 3 || integer > limit) return -1;
  if (i === end || bytes[i] !== POINT) return i;
  i++;
  const fractionStart = i;
  let nonZero = false;
  while (i < end && isDigit(bytes[i] as number)) {
    if (bytes[i] !== ZERO) nonZero = true;
    i++;
  }
  if (i === fractionStart) return -1;
  // At the limit itself, any non-zero fraction is beyond it.
  return integer === limit && nonZero ? -1 : i;
}

/**
 * Checks the ISO 6709 location in `bytes[start, end)` (docs/protocol.md#iamat): a signed decimal
 * latitude in [-90, 90] immediately followed by a signed decimal longitude in [-180, 180].
 *
 * @returns the offset where the longitude (its sign) starts, or -1 when the text is not such a
 *   location.
 */
export function scanIso6709(bytes: Uint8Array, start: number, end: number): number {
  const longitude = scanCoordinate(bytes, start, end, 90);
  if (longitude === -1) return -1;
  return scanCoordinate(bytes, longitude, end, 180) === end ? longitude : -1;
}

/**
 * Reads a location that {@link scanIso6709} accepted: the two numbers in degrees.
 *
 * @param longitudeAt - the offset {@link scanIso6709} returned.
 */
export function readIso6709(bytes: Buffer, start: number, longitudeAt: number, end: number): LatLng {
  return {
    latitude: Number(bytes.toString('latin1', start, longitudeAt)),
    longitude: Number(bytes.toString('latin1', longitudeAt, end)),
  };
}

/**
 * Parses an ISO 6709 decimal-degree location held as a string (configs, the dashboard, tests).
 *
 * @param text - e.g. `+34.068930-118.445127` or `+27.5916+086.5640`; each coordinate needs its sign,
 *   at least one integer digit, and an optional fraction.
 * @returns the point, or `undefined` when the text is not of that form or a coordinate is out of range
 *   (latitude outside [-90, 90], longitude outside [-180, 180]).
 */
export function parseIso6709(text: string): LatLng | undefined {
  // UTF-8: a character beyond ASCII becomes bytes >= 0x80, which no rule above accepts.
  const bytes = Buffer.from(text, 'utf8');
  const longitudeAt = scanIso6709(bytes, 0, bytes.length);
  return longitudeAt === -1 ? undefined : readIso6709(bytes, 0, longitudeAt, bytes.length);
}

/**
 * Formats a point as a client sends it: each coordinate with its sign and `decimals` fraction digits,
 * e.g. `+34.068930-118.445127` (the inverse of {@link parseIso6709}, to that precision).
 *
 * @param decimals - fraction digits of each coordinate. @default 6
 */
export function formatIso6709(latitude: number, longitude: number, decimals = 6): string {
  const signed = (value: number): string => `${value < 0 ? '-' : '+'}${Math.abs(value).toFixed(decimals)}`;
  return signed(latitude) + signed(longitude);
}

/** True when the decimal `text` has a non-zero digit after its point. */
export function hasNonZeroFraction(text: string): boolean {
  const point = text.indexOf('.');
  return point !== -1 && /[1-9]/.test(text.slice(point + 1));
}
