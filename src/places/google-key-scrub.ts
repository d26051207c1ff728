/**
 * Keeping the API key out of everything that leaves a Google source: replies, logs and errors
 * (docs/places.md "The key").
 */
import type { NearbySearchResponse } from './provider.js';

/** What replaces the API key wherever it would appear. */
export const REDACTED = '[redacted]';

/**
 * Replaces every occurrence of `secret` (as is, and URL-encoded) and every `key=` query value in
 * `text` with {@link REDACTED}.
 */
export function scrubSecret(text: string, secret: string): string {
  let out = text;
  if (secret !== '') {
    out = out.split(secret).join(REDACTED);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  return out.replace(/([?&]key=)[^&\s"']+/gi, `$1${REDACTED}`);
}

/** A copy of a JSON value with {@link scrubSecret} applied to every string and key. */
function scrubDeep(value: unknown, secret: string): unknown {
  if (typeof value === 'string') return scrubSecret(value, secret);
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, secret));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) out[scrubSecret(key, secret)] = scrubDeep(member, secret);
    return out;
  }
  return value;
}

/** `response` itself when the key appears nowhere in it, else a scrubbed copy. */
export function scrubResponse(response: NearbySearchResponse, secret: string): NearbySearchResponse {
  const text = JSON.stringify(response);
  if (secret === '' || (!text.includes(secret) && !text.includes(encodeURIComponent(secret)))) return response;
  return scrubDeep(response, secret) as NearbySearchResponse;
}
