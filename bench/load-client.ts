/**
 * The load generator of the bench: C connections, each keeping up to W request lines
 * outstanding, replies matched to requests by order (docs/protocol.md "Framing": replies leave in the order
 * their commands arrived). Replies are counted on the raw bytes (no decoding); refills go out as one
 * write per connection per received chunk; per request it keeps two numbers in preallocated rings.
 *
 * Two ways to offer load:
 * - closed loop (default): every reply is answered at once by a new request, so the window stays
 *   full and the rate is whatever the server sustains;
 * - open loop (`ratePerSecond`): a pacer issues requests at a fixed total rate (ticks of about 1 ms),
 *   still never more than W outstanding per connection.
 */
import net from 'node:net';
import type { Histogram } from 'hdr-histogram-js';
import { BenchError } from './bench-error.js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from './latency.js';
import type { RequestWriter } from './request-writers.js';

/** Where a connection goes. */
export interface LoadTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * How replies end: `line` (IAMAT, echo: one LF-terminated line each) or `blank-line` (WHATSAT: the
 * reply ends in an empty line, docs/protocol.md "Client commands").
 */
export type ReplyFraming = 'line' | 'blank-line';

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Connection i goes to `targets[i % targets.length]`. */
  readonly targets: readonly LoadTarget[];
  /** Number of connections, C. */
  readonly connections: number;
  /** Outstanding requests per connection, W. */
  readonly window: number;
  readonly writer: RequestWriter;
  /** @default 'line' */
  readonly framing?: ReplyFraming;
  /** Load offered before measuring, ms (replies in it are not counted). @default 0 */
  readonly warmupMs?: number;
  /** Measured time, ms. Omit with `requests` to run until every request is answered. */
  readonly durationMs?: number;
  /** Issue exactly this many requests (tags `firstTag` ... `firstTag + requests - 1`), then stop. */
  readonly requests?: number;
  /** First tag. @default 0 */
  readonly firstTag?: number;
  /** Open loop at this total rate, requests/s; omit for a closed loop. */
  readonly ratePerSecond?: number;
  /** Called for every reply with its request's tag and the receive time (`performance.now()`). */
  readonly onReply?: (tag: number, nowMs: number) => void;
  /** Called about every 250 ms with the replies so far. */
  readonly onProgress?: (replies: number) => void;
  /** Longest wait for outstanding replies after the measured time, ms. @default 30000 */
  readonly drainTimeoutMs?: number;
}

/** What {@link runLoad} measured. */
export interface LoadResult {
  /** Requests written. */
  readonly requests: number;
  /** Replies received (all phases). */
  readonly replies: number;
  /** Replies received in the measured time. */
  readonly measuredReplies: number;
  /** Length of the measured time, ms. */
  readonly measuredMs: number;
  /** measuredReplies per second. */
  readonly rate: number;
  /** Latency of the measured replies, request write to reply read. */
  readonly latency: LatencySummary;
  /** The raw latency histogram (µs). */
  readonly histogram: Histogram;
  /** `performance.now()` when the first request was written. */
  readonly startedMs: number;
}

const BLANK_LINE = Buffer.from('\n\n');
const LF = 0x0a;

class LoadConnection {
  readonly socket: net.Socket;
  /** Send time (`performance.now()`) and tag of each outstanding request, a ring of W slots. */
  readonly sentAt: Float64Array;
  readonly tags: Float64Array;
  head = 0;
  outstanding = 0;
  /** Requests the pacer assigned to this connection in the current tick. */
  due = 0;
  /** The last byte received was LF (blank-line framing across chunks). */
  lastWasLf = false;

  constructor(socket: net.Socket, window: number) {
    this.socket = socket;
    this.sentAt = new Float64Array(window);
    this.tags = new Float64Array(window);
  }
}

function connect(target: LoadTarget): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (error) =>
      reject(new BenchError(`cannot connect to ${target.host}:${target.port}: ${error.message}`, { cause: error })),
    );
  });
}

/**
 * Opens the connections, offers the load, waits for the outstanding replies, and closes.
 *
 * @throws {BenchError} when a connection fails or closes early, or replies do not drain in time.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const window = options.window;
  const writer = options.writer;
  const framing = options.framing ?? 'line';
  const warmupMs = options.warmupMs ?? 0;
  const firstTag = options.firstTag ?? 0;
  const lastTag = options.requests === undefined ? Number.POSITIVE_INFINITY : firstTag + options.requests;
  if (options.durationMs === undefined && options.requests === undefined)
    throw new BenchError('runLoad needs durationMs or requests');
  const opened = await Promise.allSettled(
    Array.from({ length: options.connections }, (_, i) =>
      connect(options.targets[i % options.targets.length] as LoadTarget),
    ),
  );
  const sockets = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const refused = opened.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (refused !== undefined) {
    for (const socket of sockets) socket.destroy();
    throw refused.reason;
  }
  const connections = sockets.map((socket) => new LoadConnection(socket, window));
  const histogram = latencyHistogram();
  const onReply = options.onReply;

  let nextTag = firstTag;
  let replies = 0;
  let measuredReplies = 0;
  let stopping = false;
  let failure: Error | undefined;
  const startedMs = performance.now();
  const measureFrom = startedMs + warmupMs;
  const measureUntil = options.durationMs === undefined ? Number.POSITIVE_INFINITY : measureFrom + options.durationMs;
  let lastReplyMs = startedMs;

  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const outstandingTotal = (): number => connections.reduce((sum, c) => sum + c.outstanding, 0);
  const checkDone = (): void => {
    if ((stopping || nextTag >= lastTag) && outstandingTotal() === 0) finish();
  };

  /** Writes `count` new requests on `connection` in one write. */
  const issue = (connection: LoadConnection, count: number): void => {
    const n = Math.min(count, window - connection.outstanding, lastTag - nextTag);
    if (n <= 0) return;
    const buffer = Buffer.allocUnsafe(n * writer.maxLineBytes);
    let offset = 0;
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      const slot = (connection.head + connection.outstanding) % window;
      const tag = nextTag++;
      connection.sentAt[slot] = now;
      connection.tags[slot] = tag;
      connection.outstanding++;
      offset = writer.write(buffer, offset, tag);
    }
    connection.socket.write(offset === buffer.length ? buffer : buffer.subarray(0, offset));
  };

  const onData = (connection: LoadConnection, chunk: Buffer): void => {
    const now = performance.now();
    let count = 0;
    if (framing === 'line') {
      let at = chunk.indexOf(LF);
      while (at !== -1) {
        count++;
        at = chunk.indexOf(LF, at + 1);
      }
    } else {
      let from = 0;
      if (connection.lastWasLf && chunk[0] === LF) {
        count++;
        from = 1;
      }
      let at = chunk.indexOf(BLANK_LINE, from);
      while (at !== -1) {
        count++;
        at = chunk.indexOf(BLANK_LINE, at + 2);
      }
      connection.lastWasLf = chunk[chunk.length - 1] === LF;
    }
    if (count === 0) return;
    if (count > connection.outstanding) {
      failure ??= new BenchError(
        `more replies than requests on a connection (${count} > ${connection.outstanding}): is the reply framing right?`,
      );
      finish();
      return;
    }
    const measured = now >= measureFrom && now <= measureUntil;
    for (let i = 0; i < count; i++) {
      const slot = connection.head;
      if (measured) recordMs(histogram, now - (connection.sentAt[slot] as number));
      if (onReply !== undefined) onReply(connection.tags[slot] as number, now);
      connection.head = (slot + 1) % window;
    }
    connection.outstanding -= count;
    replies += count;
    lastReplyMs = now;
    if (measured) measuredReplies += count;
    if (now > measureUntil) stopping = true;
    if (!stopping && options.ratePerSecond === undefined) issue(connection, count);
    checkDone();
  };

  for (const connection of connections) {
    connection.socket.on('data', (chunk: Buffer) => onData(connection, chunk));
    connection.socket.on('error', (error) => {
      failure ??= new BenchError(`load connection failed: ${error.message}`, { cause: error });
      finish();
    });
    connection.socket.on('close', () => {
      if (connection.outstanding > 0 && failure === undefined) {
        failure = new BenchError(`the server closed a load connection with ${connection.outstanding} replies due`);
        finish();
      }
    });
  }

  const timers: NodeJS.Timeout[] = [];
  if (options.durationMs !== undefined) {
    timers.push(
      setTimeout(() => {
        stopping = true;
        checkDone();
      }, warmupMs + options.durationMs),
    );
  }
  if (options.onProgress !== undefined) {
    const onProgress = options.onProgress;
    const interval = setInterval(() => onProgress(replies), 250);
    interval.unref();
    timers.push(interval);
  }

  let pacer: NodeJS.Timeout | undefined;
  if (options.ratePerSecond === undefined) {
    for (const connection of connections) issue(connection, window);
  } else {
    const rate = options.ratePerSecond;
    let issued = 0;
    let next = 0;
    const tick = (): void => {
      if (stopping || nextTag >= lastTag) return;
      const due = Math.floor(((performance.now() - startedMs) * rate) / 1000) - issued;
      // Round-robin over the connections with room in their window.
      let assigned = 0;
      for (let tries = 0; assigned < due && tries < connections.length * window; tries++) {
        const connection = connections[next] as LoadConnection;
        next = (next + 1) % connections.length;
        if (connection.outstanding + connection.due < window) {
          connection.due++;
          assigned++;
        }
      }
      for (const connection of connections) {
        if (connection.due > 0) {
          issue(connection, connection.due);
          connection.due = 0;
        }
      }
      // Requests that found no room are dropped, not owed: an open loop does not catch up in bursts.
      issued += due;
      pacer = setTimeout(tick, 1);
    };
    tick();
  }
  checkDone();

  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const drainTimer = setInterval(() => {
    if ((stopping || nextTag >= lastTag) && performance.now() - lastReplyMs > drainTimeoutMs) {
      failure ??= new BenchError(`${outstandingTotal()} replies still due ${drainTimeoutMs} ms after the last one`);
      finish();
    }
  }, 500);
  timers.push(drainTimer);

  await finished;
  for (const timer of timers) clearTimeout(timer);
  clearTimeout(pacer);
  await Promise.all(connections.map((connection) => closeSocket(connection.socket)));
  if (failure !== undefined) throw failure;
  const endMs = Math.min(performance.now(), lastReplyMs);
  const measuredMs = options.durationMs ?? endMs - measureFrom;
  return {
    requests: nextTag - firstTag,
    replies,
    measuredReplies,
    measuredMs,
    rate: measuredMs > 0 ? (measuredReplies * 1000) / measuredMs : 0,
    latency: summarize(histogram),
    histogram,
    startedMs,
  };
}

/** Ends a socket and waits for it to close (destroying it after 2 s). */
export function closeSocket(socket: net.Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });
}
