/**
 * The HTTP side of the Google sources: one look-up is at most two attempts (the second only after a
 * transient failure) inside one time budget, over Node's global `fetch` (undici, keep-alive
 * connections). Every outcome, including a timeout, a reset connection or garbage, becomes a legacy
 * Nearby Search response (docs/protocol.md "WHATSAT": a WHATSAT is never left unanswered), and the
 * API key is scrubbed from anything that leaves (docs/places.md "The key").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';
import { failedNearbySearch, type NearbySearchResponse } from './provider.js';
import { describeTransportError, parseRetryAfterMs, TRANSIENT_CODES } from './google-failures.js';
import { scrubResponse, scrubSecret } from './google-key-scrub.js';

/** Base delay before the retry when Google sends no `Retry-After`, ms; up to half as much again is added as jitter. */
export const RETRY_DELAY_MS = 100;
/** Largest response body read from Google, bytes (a full legacy page is about 30 KB). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** The part of `fetch` the Google sources use; injectable for tests. */
export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** One HTTP response as the interpreters see it. */
export interface HttpExchange {
  /** HTTP status code, e.g. 200. */
  readonly status: number;
  /** HTTP reason phrase, e.g. `Internal Server Error` (may be empty). */
  readonly statusText: string;
  /** The `Retry-After` header, or `null`. */
  readonly retryAfter: string | null;
  /** The body, decoded as UTF-8. */
  readonly body: string;
}

/** What one HTTP exchange came to. */
export interface AttemptOutcome {
  /** The answer, should this be the last attempt. */
  readonly response: NearbySearchResponse;
  /** A second attempt may succeed: 5xx, 429, a reset connection, legacy `UNKNOWN_ERROR`. */
  readonly transient: boolean;
}

/** Options of a {@link GoogleHttpClient}. */
export interface GoogleHttpOptions {
  /** The source name for logs, e.g. `google-new`. */
  readonly source: string;
  /** How error messages name the API, e.g. `Google Places API (New)`. */
  readonly label: string;
  /** The key, scrubbed from every message, log line and response. */
  readonly apiKey: string;
  /** Time budget of one look-up, both attempts and the wait between them, ms. */
  readonly timeoutMs: number;
  /** Retry once after a transient failure. @default true */
  readonly retry?: boolean;
  /** Where retries and upstream answers are logged (never with the URL or key). */
  readonly logger?: Logger;
  /** @default globalThis.fetch */
  readonly fetch?: FetchFunction;
  /** Monotonic clock, ms. @default performance.now */
  readonly now?: () => number;
  /** Wall clock for HTTP-date `Retry-After`, POSIX ms. @default Date.now */
  readonly wallNow?: () => number;
  /** Waits `ms`; rejects when `signal` aborts. @default a timer */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1), for jitter. @default Math.random */
  readonly random?: () => number;
}

/** A request to send: the URL (it may carry the key) and the fetch options (they may too). */
export interface GoogleRequest {
  readonly url: string;
  readonly init: RequestInit;
}

class BodyTooLargeError extends Error {}

/** Reads a body as UTF-8, giving up past `maxBytes`. */
async function readBody(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal });
}

/** Why a look-up was aborted. */
type AbortWhy = 'timeout' | 'closed';

/**
 * Sends look-ups to one Google API with the time budget and retry policy of the Google sources:
 *
 * - one budget of `timeoutMs` covers both attempts and the wait between them; when it runs out the
 *   request is aborted and the answer is `UNKNOWN_ERROR`;
 * - a second attempt only after a transient failure ({@link AttemptOutcome.transient}), after
 *   `Retry-After` when Google sends one, else after {@link RETRY_DELAY_MS} plus jitter; when that
 *   wait would not end within the budget, the first failure is the answer at once;
 * - redirects are not followed (the key would go with them).
 *
 * It never rejects.
 */
export class GoogleHttpClient {
  private readonly options: GoogleHttpOptions;
  private readonly fetch: FetchFunction;
  private readonly now: () => number;
  private readonly wallNow: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(options: GoogleHttpOptions) {
    this.options = options;
    this.fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.now = options.now ?? (() => performance.now());
    this.wallNow = options.wallNow ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /**
   * Runs one look-up.
   *
   * @param request - what to send (built once, sent once or twice).
   * @param interpret - turns an HTTP response into an outcome; must not throw.
   * @returns the answer, key scrubbed: never rejects.
   */
  async lookUp(
    request: GoogleRequest,
    interpret: (exchange: HttpExchange) => AttemptOutcome,
  ): Promise<NearbySearchResponse> {
    const { label, timeoutMs, apiKey } = this.options;
    if (this.closed) return failedNearbySearch('UNKNOWN_ERROR', `places source ${this.options.source} is closed`);
    const started = this.now();
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort('timeout' satisfies AbortWhy), timeoutMs);
    const aborted = (): NearbySearchResponse =>
      controller.signal.reason === 'closed'
        ? failedNearbySearch('UNKNOWN_ERROR', `places source ${this.options.source} is closed`)
        : failedNearbySearch('UNKNOWN_ERROR', `${label} did not answer within ${timeoutMs} ms`);
    try {
      for (let attempt = 1; ; attempt++) {
        const attemptStarted = this.now();
        const outcome = await this.attempt(request, interpret, controller.signal);
        if (outcome === undefined) return aborted();
        this.options.logger?.debug(
          {
            event: 'places-upstream',
            source: this.options.source,
            attempt,
            httpStatus: outcome.httpStatus,
            status: outcome.response.status,
            transient: outcome.transient,
            ms: Math.round(this.now() - attemptStarted),
          },
          `${this.options.source} attempt ${attempt}: ${outcome.response.status}`,
        );
        const response = scrubResponse(outcome.response, apiKey);
        if (!outcome.transient || this.options.retry === false || attempt >= 2) return response;
        const retryAfterMs = outcome.retryAfterMs;
        const delayMs = retryAfterMs ?? Math.round(RETRY_DELAY_MS * (1 + this.random() / 2));
        const remainingMs = timeoutMs - (this.now() - started);
        const logFields = {
          event: 'places-retry',
          source: this.options.source,
          status: response.status,
          error: response.error_message,
          retryAfterMs,
          delayMs,
          remainingMs: Math.round(remainingMs),
        };
        if (delayMs >= remainingMs) {
          this.options.logger?.warn(
            logFields,
            `${this.options.source}: ${response.status}; no retry (a wait of ${delayMs} ms does not fit in the time budget)`,
          );
          return response;
        }
        this.options.logger?.warn(logFields, `${this.options.source}: ${response.status}; retrying in ${delayMs} ms`);
        try {
          await this.sleep(delayMs, controller.signal);
        } catch {
          return aborted();
        }
      }
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  /** One exchange; `undefined` when the look-up was aborted (timeout or close). */
  private async attempt(
    request: GoogleRequest,
    interpret: (exchange: HttpExchange) => AttemptOutcome,
    signal: AbortSignal,
  ): Promise<(AttemptOutcome & { retryAfterMs?: number; httpStatus?: number }) | undefined> {
    const { label, apiKey } = this.options;
    let exchange: HttpExchange;
    try {
      const response = await this.fetch(request.url, { ...request.init, signal, redirect: 'manual' });
      const body = await readBody(response, MAX_RESPONSE_BYTES);
      exchange = {
        status: response.status,
        statusText: response.statusText,
        retryAfter: response.headers.get('retry-after'),
        body,
      };
    } catch (error) {
      if (signal.aborted) return undefined;
      if (error instanceof BodyTooLargeError) {
        return {
          response: failedNearbySearch('UNKNOWN_ERROR', `${label} answered with more than ${MAX_RESPONSE_BYTES} bytes`),
          transient: false,
        };
      }
      const { code, detail } = describeTransportError(error);
      return {
        response: failedNearbySearch('UNKNOWN_ERROR', scrubSecret(`${label} could not be reached: ${detail}`, apiKey)),
        transient: code !== undefined && TRANSIENT_CODES.has(code),
      };
    }
    let outcome: AttemptOutcome;
    try {
      outcome = interpret(exchange);
    } catch {
      // An interpreter bug must not leave a WHATSAT unanswered.
      outcome = {
        response: failedNearbySearch(
          'UNKNOWN_ERROR',
          `${label} answered HTTP ${exchange.status} that could not be read`,
        ),
        transient: false,
      };
    }
    const retryAfterMs = parseRetryAfterMs(exchange.retryAfter, this.wallNow());
    return { ...outcome, httpStatus: exchange.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }

  /** Aborts every look-up in flight (they answer `UNKNOWN_ERROR`); later look-ups answer the same at once. */
  close(): void {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort('closed' satisfies AbortWhy);
  }
}
