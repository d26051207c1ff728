/**
 * Small non-cryptographic string hashes for anti-entropy digests. Digests only need to tell equal
 * tables from different ones with overwhelming probability; nobody gains by forging a collision
 * (a forged peer could send any update outright), so speed wins over cryptographic strength.
 */

/** FNV-1a, 32 bits, over the string's code units (for a binary string, its bytes): picks a client's digest bucket. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
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
