/**
 * How a Google exchange can fail, and what each failure means: which transport errors and HTTP
 * statuses are worth the one retry, how long `Retry-After` asks to wait, and the legacy `status` a
 * client gets for an HTTP failure (docs/places.md "What clients get when Google fails").
 */
import type { NearbySearchStatus } from './provider.js';

/** Transport error codes worth a second attempt (undici and libuv names). */
export const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Parses a `Retry-After` header (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date.
 *
 * @param value - the header, or `null`.
 * @param wallNowMs - the current POSIX time, ms, for an HTTP-date.
 * @returns the delay in ms (0 for a date in the past), or `undefined` when absent or unparsable.
 */
export function parseRetryAfterMs(value: string | null, wallNowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - wallNowMs);
}

/**
 * The legacy `status` for an HTTP failure without a usable body (docs/places.md "What clients get when Google
 * fails"): 400 `INVALID_REQUEST`, 401/403 `REQUEST_DENIED`, 429 `OVER_QUERY_LIMIT`, anything else
 * `UNKNOWN_ERROR`.
 */
export function legacyStatusForHttp(httpStatus: number): NearbySearchStatus {
  if (httpStatus === 400) return 'INVALID_REQUEST';
  if (httpStatus === 401 || httpStatus === 403) return 'REQUEST_DENIED';
  if (httpStatus === 429) return 'OVER_QUERY_LIMIT';
  return 'UNKNOWN_ERROR';
}

/** Whether an HTTP status is worth a second attempt: 429 and 5xx. */
export function isTransientHttpStatus(httpStatus: number): boolean {
  return httpStatus === 429 || httpStatus >= 500;
}

/** The `code` of a fetch failure's cause (undici puts the socket error there), and its message. */
export function describeTransportError(error: unknown): { code: string | undefined; detail: string } {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code =
    cause !== null && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  const message = cause instanceof Error ? cause.message : String(cause);
  return { code, detail: code === undefined || message.includes(code) ? message : `${code} ${message}` };
}
