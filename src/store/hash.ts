/**
 * Small non-cryptographic string hashes: for anti-entropy digests, and for the location table's
 * slots (./client-table.ts, seeded per table). Digests only need to tell equal tables from different
 * ones with overwhelming probability; nobody gains by forging a collision (a forged peer could send
 * any update outright), so speed wins over cryptographic strength.
 */

/** FNV-1a's 32-bit offset basis: the start of {@link hash32}. */
const FNV_OFFSET_BASIS = 0x811c9dc5;

/**
 * FNV-1a, 32 bits, over the string's code units (for a binary string, its bytes), started from
 * `basis`, as a signed 32-bit integer. {@link hash32} starts from FNV's own basis; the location
 * table (./client-table.ts) from its per-table seed.
 */
export function fnv1a(text: string, basis: number): number {
  let h = basis;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** FNV-1a, 32 bits, unsigned: picks a client's digest bucket (the same on every server). */
export function hash32(text: string): number {
  return fnv1a(text, FNV_OFFSET_BASIS) >>> 0;
}

/** MurmurHash3's 32-bit finaliser: every bit of `h` moves about half of the result's bits. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * A 64-bit hash as two 32-bit halves (cyrb53's mixing, both halves kept): the digest contribution of
 * one stored record. Writes into `out` to avoid an allocation per call.
 */
export function hash64(text: string, out: Uint32Array): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h1 >>> 0;
  out[1] = h2 >>> 0;
}
