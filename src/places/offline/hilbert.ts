/**
 * Position of a point on a Hilbert curve over a 2^16 x 2^16 longitude/latitude grid: points close on
 * the curve are close on the map, so places sorted by it can be grouped into small boxes (a packed
 * Hilbert R-tree). The bit-twiddling is the "fast Hilbert curve" of rawrunprotected/hilbert_curves
 * (public domain), as ported to JavaScript by flatbush (github.com/mourner/flatbush, ISC).
 */

/** Cells per axis of the grid the curve runs over. */
const GRID = 0xffff;

function interleave(v: number): number {
  let x = v;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x;
}

function hilbertXY(x: number, y: number): number {
  let a = x ^ y;
  let b = 0xffff ^ a;
  let c = 0xffff ^ (x | y);
  let d = x & (y ^ 0xffff);

  let A = a | (b >> 1);
  let B = (a >> 1) ^ a;
  let C = (c >> 1) ^ (b & (d >> 1)) ^ c;
  let D = (a & (c >> 1)) ^ (d >> 1) ^ d;

  // The same step at shifts 2 and 4 (the last step, at 8, updates only C and D).
  for (let shift = 2; shift <= 4; shift <<= 1) {
    a = A;
    b = B;
    c = C;
    d = D;
    A = (a & (a >> shift)) ^ (b & (b >> shift));
    B = (a & (b >> shift)) ^ (b & ((a ^ b) >> shift));
    C ^= (a & (c >> shift)) ^ (b & (d >> shift));
    D ^= (b & (c >> shift)) ^ ((a ^ b) & (d >> shift));
  }

  a = A;
  b = B;
  c = C;
  d = D;
  C ^= (a & (c >> 8)) ^ (b & (d >> 8));
  D ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));

  a = C ^ (C >> 1);
  b = D ^ (D >> 1);

  let i0 = x ^ y;
  let i1 = b | (0xffff ^ (i0 | a));
  i0 = interleave(i0);
  i1 = interleave(i1);
  return ((i1 << 1) | i0) >>> 0;
}

/** The Hilbert index, an integer in [0, 2^32), of a point in degrees (longitude in [-180, 180], latitude in [-90, 90]). */
export function hilbertIndex(lng: number, lat: number): number {
  const x = Math.floor(((lng + 180) / 360) * GRID);
  const y = Math.floor(((lat + 90) / 180) * GRID);
  return hilbertXY(x, y);
}
