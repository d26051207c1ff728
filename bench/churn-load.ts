/**
 * The soak's load (docs/benchmarks.md "Soak"): requests at a fixed total rate, each on a new
 * connection (connect, write one line, half-close, read until the server closes), spread over the
 * servers in turn, like mobile clients that connect, say one thing and leave. A share of them are
 * IAMATs of random client ids at random locations, the rest WHATSATs of client ids that were
 * acknowledged a while ago (so every server has heard of them). Every reply is checked:
 *
 * - IAMAT: exactly `AT <that server> <time difference> <client id> <location> <time>`, one line;
 * - WHATSAT: an AT line for that client id, then a Nearby Search document (status `OK` or
 *   `ZERO_RESULTS`, at most the bound of results) and a blank line.
 *
 * Counts, failures (by error code) and latency (connect to close) are kept per window; the soak
 * reads and resets them every minute.
 */
import net from 'node:net';
import type { Histogram } from 'hdr-histogram-js';
import { latencyHistogram, recordMs } from './latency.js';
import type { LoadTarget } from './load-client.js';
import { seededRandom } from '../test/helpers/seeded-random.js';

/** WHATSAT radius, km, and bound of the soak's WHATSATs. */
export const CHURN_WHATSAT = { radiusKm: 10, bound: 5 } as const;
/** Most wrong replies kept as samples per window. */
export const WRONG_SAMPLES = 5;
/** Pacer tick, ms. */
const TICK_MS = 5;

/** A server the load goes to. */
export interface ChurnTarget extends LoadTarget {
  readonly name: string;
}

/** Options of {@link ChurnLoad}. */
export interface ChurnLoadOptions {
  /** Request i goes to `targets[i % targets.length]`. */
  readonly targets: readonly ChurnTarget[];
  /** Requests started per second, in total. */
  readonly ratePerSecond: number;
  /** Distinct client ids (`soak-0` ... `soak-<clients - 1>`). */
  readonly clients: number;
  /** Share of requests that are IAMATs, in [0, 1] (the rest WHATSATs, once a client id is eligible). */
  readonly iamatShare: number;
  /** A WHATSAT names only a client id acknowledged at least this long ago, ms. */
  readonly settleMs: number;
  /** Connections open at once; a request due while this many are open is counted as skipped. */
  readonly maxOpen: number;
  /** A request without its whole reply after this long is cut and counted as timed out, ms. */
  readonly timeoutMs: number;
  readonly seed: number;
}

/** What happened in one window (since the previous {@link ChurnLoad.take}). */
export interface ChurnWindow {
  readonly ms: number;
  readonly started: number;
  readonly iamat: number;
  readonly whatsat: number;
  /** Replies that were right. */
  readonly ok: number;
  /** Replies that were not (a sample of them in `wrongSamples`). */
  readonly wrong: number;
  readonly wrongSamples: readonly string[];
  /** Connections that failed (refused, reset, ...), by error code. */
  readonly failed: Readonly<Record<string, number>>;
  readonly timedOut: number;
  /**
   * Requests due but not started: `maxOpen` connections were open, or the bench's own event loop
   * was more than a second behind (a box too busy to offer the load).
   */
  readonly skipped: number;
  /** Connect to close of the right replies, µs. */
  readonly latency: Histogram;
}

function emptyWindow(): {
  -readonly [K in keyof ChurnWindow]: K extends 'failed'
    ? Record<string, number>
    : K extends 'wrongSamples'
      ? string[]
      : ChurnWindow[K];
} {
  return {
    ms: 0,
    started: 0,
    iamat: 0,
    whatsat: 0,
    ok: 0,
    wrong: 0,
    wrongSamples: [],
    failed: {},
    timedOut: 0,
    skipped: 0,
    latency: latencyHistogram(),
  };
}

/** An ISO 6709 location in decimal degrees, e.g. `+34.068930-118.445127`. */
function iso6709(latitude: number, longitude: number): string {
  const part = (value: number, width: number): string =>
    `${value < 0 ? '-' : '+'}${Math.abs(value)
      .toFixed(6)
      .padStart(width + 7, '0')}`;
  return `${part(latitude, 2)}${part(longitude, 3)}`;
}

/** Whether `reply` is the whole right answer to a WHATSAT for `clientId`. */
function rightWhatsat(reply: string, clientId: string): boolean {
  const firstLine = reply.indexOf('\n');
  if (firstLine === -1 || !reply.endsWith('\n\n')) return false;
  const fields = reply.slice(0, firstLine).split(' ');
  if (fields.length !== 6 || fields[0] !== 'AT' || fields[3] !== clientId) return false;
  try {
    const places = JSON.parse(reply.slice(firstLine + 1)) as { status?: string; results?: unknown[] };
    return (
      (places.status === 'OK' || places.status === 'ZERO_RESULTS') &&
      Array.isArray(places.results) &&
      places.results.length <= CHURN_WHATSAT.bound
    );
  } catch {
    return false;
  }
}

/** The load; {@link start} it, {@link take} its windows, {@link stop} it. */
export class ChurnLoad {
  private readonly options: ChurnLoadOptions;
  private readonly random: () => number;
  /** `performance.now()` when each client id was last acknowledged (0: never). */
  private readonly ackedAt: Float64Array;
  private window = emptyWindow();
  private windowStartedMs = performance.now();
  private startedMs = 0;
  private issued = 0;
  private next = 0;
  private open = 0;
  private timer: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;

  constructor(options: ChurnLoadOptions) {
    this.options = options;
    this.random = seededRandom(options.seed);
    this.ackedAt = new Float64Array(options.clients);
  }

  /** Starts issuing requests at the rate. */
  start(): void {
    this.startedMs = performance.now();
    this.windowStartedMs = this.startedMs;
    this.issued = 0;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** The window since the previous call (or the start), and a new one begun. */
  take(): ChurnWindow {
    const now = performance.now();
    const window = { ...this.window, ms: now - this.windowStartedMs };
    this.window = emptyWindow();
    this.windowStartedMs = now;
    return window;
  }

  /** Stops issuing, and resolves once every open request has ended. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.open > 0) await new Promise<void>((resolve) => (this.drained = resolve));
  }

  private tick(): void {
    const due = Math.floor(((performance.now() - this.startedMs) * this.options.ratePerSecond) / 1000);
    // After a stall (the bench's own loop blocked), at most one second's worth at once; the rest
    // are counted as skipped, not sent late.
    const count = Math.min(due - this.issued, this.options.ratePerSecond);
    this.window.started += due - this.issued - count;
    this.window.skipped += due - this.issued - count;
    this.issued = due;
    for (let i = 0; i < count; i++) this.issue();
  }

  private issue(): void {
    const { options, window } = this;
    window.started++;
    if (this.open >= options.maxOpen) {
      window.skipped++;
      return;
    }
    const target = options.targets[this.next++ % options.targets.length] as ChurnTarget;
    const index = Math.floor(this.random() * options.clients);
    const clientId = `soak-${index}`;
    const now = performance.now();
    const acked = this.ackedAt[index] as number;
    const whatsat = this.random() >= options.iamatShare && acked > 0 && now - acked >= options.settleMs;
    let line: string;
    let right: (reply: string) => boolean;
    if (whatsat) {
      window.whatsat++;
      line = `WHATSAT ${clientId} ${CHURN_WHATSAT.radiusKm} ${CHURN_WHATSAT.bound}\n`;
      right = (reply) => rightWhatsat(reply, clientId);
    } else {
      window.iamat++;
      const location = iso6709(this.random() * 120 - 55, this.random() * 360 - 180);
      const tail = ` ${clientId} ${location} ${(Date.now() / 1000).toFixed(9)}\n`;
      line = `IAMAT${tail}`;
      right = (reply) =>
        reply.startsWith(`AT ${target.name} `) &&
        reply.endsWith(tail) &&
        reply.indexOf('\n') === reply.length - 1 &&
        /^[+-]\d+\.\d{9}$/.test(reply.split(' ')[2] ?? '');
    }
    this.open++;
    const chunks: Buffer[] = [];
    let outcome: 'failed' | 'timed out' | undefined;
    const socket = net.connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      outcome = 'timed out';
      socket.destroy();
    }, options.timeoutMs);
    socket.once('connect', () => socket.end(line));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (outcome !== undefined) return;
      outcome = 'failed';
      const code = error.code ?? error.message;
      this.window.failed[code] = (this.window.failed[code] ?? 0) + 1;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      this.open--;
      const current = this.window;
      if (outcome === 'timed out') current.timedOut++;
      else if (outcome === undefined) {
        const reply = Buffer.concat(chunks).toString('utf8');
        if (right(reply)) {
          current.ok++;
          recordMs(current.latency, performance.now() - now);
          if (!whatsat) this.ackedAt[index] = performance.now();
        } else {
          current.wrong++;
          if (current.wrongSamples.length < WRONG_SAMPLES)
            current.wrongSamples.push(`${target.name} <- ${line.trimEnd()} -> ${JSON.stringify(reply.slice(0, 200))}`);
        }
      }
      if (this.open === 0 && this.timer === undefined) this.drained?.();
    });
  }
}
