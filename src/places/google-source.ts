/**
 * What the two Google places sources (google-legacy.ts, google-new.ts) share: their options, the
 * {@link GoogleHttpClient} each builds from them, and how an HTTP answer that is not a Nearby Search
 * response becomes a failed WHATSAT document (docs/places.md "What clients get when Google fails").
 */
import type { Logger } from '../observability/logger.js';
import { GoogleHttpClient, type AttemptOutcome, type FetchFunction, type HttpExchange } from './google-http.js';
import { isTransientHttpStatus } from './google-failures.js';
import { failedNearbySearch, type NearbySearchStatus } from './provider.js';

/** Options of a Google places source. */
export interface GoogleSourceOptions {
  /** The API key (legacy: the `key` query parameter; new: `X-Goog-Api-Key`). */
  readonly apiKey: string;
  /** Scheme, host, port and path prefix, no trailing slash, e.g. `https://maps.googleapis.com`. */
  readonly baseUrl: string;
  /** Time budget of one look-up, retry included, ms. */
  readonly timeoutMs: number;
  /** Retry once after a transient failure. @default true */
  readonly retry?: boolean;
  readonly logger?: Logger;
  /** @default globalThis.fetch */
  readonly fetch?: FetchFunction;
}

/** The HTTP client of the source named `source` (logs) and `label` (error messages). */
export function googleHttpClientOf(source: string, label: string, options: GoogleSourceOptions): GoogleHttpClient {
  const { apiKey, timeoutMs, retry, logger, fetch } = options;
  return new GoogleHttpClient({ source, label, apiKey, timeoutMs, retry, logger, fetch });
}

/** An HTTP body read as JSON: `parses` is false when it is not JSON (`parsed` is then `undefined`). */
export function readJsonBody(body: string): { parsed: unknown; parses: boolean } {
  try {
    return { parsed: JSON.parse(body) as unknown, parses: true };
  } catch {
    return { parsed: undefined, parses: false };
  }
}

/**
 * The outcome of an HTTP 2xx answer whose body is not the expected response: `UNKNOWN_ERROR`, not
 * transient.
 *
 * @param expected - what the body should have been, e.g. `a Nearby Search response`.
 */
export function unexpectedBody(
  label: string,
  exchange: HttpExchange,
  parses: boolean,
  expected: string,
): AttemptOutcome {
  const what = parses ? `JSON that is not ${expected}` : 'malformed JSON';
  return {
    response: failedNearbySearch('UNKNOWN_ERROR', `${label} answered ${what} (HTTP ${exchange.status})`),
    transient: false,
  };
}

/**
 * The outcome of an HTTP error answer: `status`, with `message` (Google's own, when it sent one) or
 * `<label> answered HTTP <code> <reason>`; transient on 429 and 5xx.
 */
export function httpFailure(
  label: string,
  exchange: HttpExchange,
  status: NearbySearchStatus,
  message?: string,
): AttemptOutcome {
  const reason = exchange.statusText === '' ? '' : ` ${exchange.statusText}`;
  return {
    response: failedNearbySearch(
      status,
      message !== undefined && message !== '' ? message : `${label} answered HTTP ${exchange.status}${reason}`,
    ),
    transient: isTransientHttpStatus(exchange.status),
  };
}
