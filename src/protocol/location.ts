/**
 * ISO 6709 locations in decimal degrees as the protocol uses them: latitude then longitude, each with
 * its own sign, e.g. `+34.068930-118.445127` (docs/protocol.md "Client commands").
 */

/** A point on the Earth in decimal degrees (WGS 84). */
export interface LatLng {
  /** Degrees north, in [-90, 90]. */
  readonly latitude: number;
  /** Degrees east, in [-180, 180]. */
  readonly longitude: number;
}

/** Signed decimal latitude immediately followed by signed decimal longitude. */
const ISO_6709 = /^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)$/;

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

/**
 * Parses an ISO 6709 decimal-degree location.
 *
 * @param text - e.g. `+34.068930-118.445127` or `+27.5916+086.5640`; each coordinate needs its sign,
 *   at least one integer digit, and an optional fraction.
 * @returns the point, or `undefined` when the text is not of that form or a coordinate is out of range
 *   (latitude outside [-90, 90], longitude outside [-180, 180]).
 */
export function parseIso6709(text: string): LatLng | undefined {
  const match = ISO_6709.exec(text);
  if (match === null) return undefined;
  const latitude = Number(match[1]);
  const longitude = Number(match[2]);
  if (!(latitude >= -90 && latitude <= 90 && longitude >= -180 && longitude <= 180)) return undefined;
  // A double cannot tell 90 from 90.0000000000000001: at a bound, judge the decimal text itself.
  if (
    (Math.abs(latitude) === 90 && hasNonZeroFraction(match[1] as string)) ||
    (Math.abs(longitude) === 180 && hasNonZeroFraction(match[2] as string))
  ) {
    return undefined;
  }
  return { latitude, longitude };
}

/** True when the decimal `text` has a non-zero digit after its point. */
export function hasNonZeroFraction(text: string): boolean {
  const point = text.indexOf('.');
  return point !== -1 && /[1-9]/.test(text.slice(point + 1));
}
