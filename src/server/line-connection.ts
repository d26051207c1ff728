/**
 * The transport of a client connection: framing, replies written in command order, flow control and
 * half-close handling (docs/protocol.md "Client commands"). What a line means is the
 * {@link ConnectionHandler}'s business (src/server/client-session.ts). Works on any duplex stream,
 * so tests need no socket.
 */
import type { Duplex } from 'node:stream';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';
import type { ReplyBytes } from '../protocol/bytes.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import { READ_SLICES } from '../core/read-slices.js';

/**
 * A reply: ready bytes (a binary string, or a head and a body of bytes: src/protocol/bytes.ts), or a
 * promise of them (a WHATSAT waiting on places).
 */
export type Reply = ReplyBytes | Promise<ReplyBytes>;

/** What a connection asks of the server. */
export interface ConnectionHandler {
  /**
   * Handles one received line, `bytes[start, end)` without terminator (valid only during the call).
   *
   * @returns the reply to send (with terminator), or `undefined` when none is due (a blank line). A
   *   rejected promise is answered with `fallback`'s reply.
   */
  onLine(bytes: Buffer, start: number, end: number): Reply | undefined;
  /**
   * The reply for a line whose reply promise rejected (must not throw); or `undefined` for none: the
   * replies to the lines before it are written, then the connection is closed, and neither this line
   * nor any after it gets a reply (a valid IAMAT that cannot be made durable, docs/protocol.md#iamat).
   *
   * @param line - the line as a binary string.
   */
  fallback(line: string, error: unknown): string | undefined;
  /** Called once with the first `maxLineBytes` bytes of an over-long line; the connection then closes. */
  onOverflow(bytes: Buffer, start: number, end: number): ReplyBytes;
  /** Called when the connection stops reading or is dropped because its peer does not read. */
  onSlowReader(event: 'paused' | 'dropped'): void;
  /** Called once when the connection is gone, with the reason. */
  onClose(reason: string): void;
}

/** Limits of one connection. */
export interface ConnectionLimits {
  /** Longest line in bytes. */
  readonly maxLineBytes: number;
  /**
   * Unwritten reply bytes above which the connection stops reading input until the remote end reads
   * (backpressure for clients that send but do not read).
   */
  readonly maxPendingOutputBytes: number;
  /**
   * Replies not yet written (waiting on places or on earlier replies) at which the connection stops
   * reading input until they are written. Lines already received in the same chunk are still
   * handled, so the bound is exceeded by at most one chunk's lines.
   */
  readonly maxPendingReplies: number;
  /** A connection that stays stopped for unread output this long is dropped, ms. */
  readonly slowReaderTimeoutMs: number;
}

interface Slot {
  text: ReplyBytes | undefined;
  /** No reply: the connection closes here (see {@link ConnectionHandler.fallback}). */
  cut?: boolean;
}

/** Replies are binary strings: written byte for byte. */
const REPLY_ENCODING = 'latin1';

/**
 * Reads lines from a duplex stream and writes replies in the order of the lines, whatever order
 * they complete in; replies ready together go out in one write. After the remote half-closes, every
 * reply still due is written before the stream is ended (docs/protocol.md "Client commands").
 */
export class LineConnection {
  private readonly stream: Duplex;
  private readonly handler: ConnectionHandler;
  private readonly limits: ConnectionLimits;
  private readonly splitter: LineSplitter;
  private readonly pending: Slot[] = [];
  private pendingHead = 0;
  /** Reply bytes for the next write: strings, then the last ones (after {@link outputParts}). */
  private output = '';
  /** Replies with bodies for the next write, in order, before {@link output}: strings and Buffers. */
  private outputParts: (string | Buffer)[] = [];
  private flushScheduled = false;
  private inputEnded = false;
  private closed = false;
  private paused = false;
  private overflowed = false;
  /** A reply was refused ({@link ConnectionHandler.fallback}): close after the replies before it. */
  private cut = false;
  private ending = false;
  private slowTimer: TimerHandle | undefined;
  private readonly timers: Timers;
  private lastInputMs: number;
  private readonly closedPromise: Promise<void>;
  private resolveClosed: () => void = () => undefined;

  /**
   * @param stream - the connection (a socket, or a `duplexPair()` end in tests).
   * @param handler - what lines mean.
   * @param limits - this connection's bounds.
   * @param timers - clock and timers for the slow-reader timeout. @default {@link SYSTEM_TIMERS}
   */
  constructor(stream: Duplex, handler: ConnectionHandler, limits: ConnectionLimits, timers: Timers = SYSTEM_TIMERS) {
    this.stream = stream;
    this.timers = timers;
    this.lastInputMs = timers.now();
    this.handler = handler;
    this.limits = limits;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.splitter = new LineSplitter((bytes, start, end) => this.onLine(bytes, start, end), {
      maxLineBytes: limits.maxLineBytes,
      onOverflow: (bytes, start, end) => {
        // The over-long line gets its `? ` reply after every earlier reply, then the connection ends.
        this.enqueue(this.handler.onOverflow(bytes, start, end));
        this.overflowed = true;
        this.stopReading();
      },
    });
    const mayResume = (): boolean => !this.paused && !this.inputEnded && !this.closed;
    stream.on('data', (chunk: Buffer) => {
      this.lastInputMs = this.timers.now();
      if (READ_SLICES.holdClient(stream, chunk, mayResume)) return;
      const timed = READ_SLICES.begin(chunk.length);
      this.splitter.push(chunk);
      if (timed) READ_SLICES.pauseIfSpent(stream, mayResume);
    });
    stream.on('end', () => {
      if (this.inputEnded) return;
      this.splitter.end();
      this.inputEnded = true;
      this.maybeFinish();
    });
    stream.on('error', (error: Error) => this.close(`error: ${error.message}`));
    stream.on('close', () => this.close('closed'));
    stream.on('drain', () => this.updateFlow());
  }

  /** Number of replies not yet written (waiting on places or on earlier replies). */
  get pendingReplies(): number {
    return this.pending.length - this.pendingHead;
  }

  /** {@link Timers.now} when input last arrived (or the connection opened). */
  get lastInputAtMs(): number {
    return this.lastInputMs;
  }

  /** Resolves when the connection is closed. */
  get closedSignal(): Promise<void> {
    return this.closedPromise;
  }

  /** Closes the connection now, dropping unwritten replies. */
  destroy(reason: string): void {
    this.close(reason);
    this.stream.destroy();
  }

  /**
   * Graceful end (server shutdown, or a client that must go): reads no more input, writes every
   * reply still due for lines already received, then ends the stream.
   */
  finish(): void {
    this.stopReading();
  }

  private stopReading(): void {
    if (!this.inputEnded) {
      this.inputEnded = true;
      this.stream.pause();
    }
    // Deferred: a handler that calls finish() while handling a line may still return that line's reply.
    queueMicrotask(() => this.maybeFinish());
  }

  private onLine(bytes: Buffer, start: number, end: number): void {
    if (this.closed || this.inputEnded) return;
    const reply = this.handler.onLine(bytes, start, end);
    if (reply === undefined) return;
    if (!(reply instanceof Promise)) {
      this.enqueue(reply);
      return;
    }
    const slot: Slot = { text: undefined };
    this.pending.push(slot);
    // Kept only for this rare case: a reply that failed is answered `? <line>`.
    const line = bytes.toString('latin1', start, end);
    reply.then(
      (text) => {
        slot.text = text;
        this.advance();
      },
      (error: unknown) => {
        const text = this.handler.fallback(line, error);
        if (text === undefined) slot.cut = true;
        else slot.text = text;
        this.advance();
      },
    );
    if (this.pendingReplies >= this.limits.maxPendingReplies) this.updateFlow();
  }

  private enqueue(text: ReplyBytes): void {
    if (this.pendingReplies === 0) {
      this.append(text);
      this.scheduleFlush();
    } else {
      this.pending.push({ text });
    }
  }

  /** Adds a reply to the next write: a string to {@link output}, a body after it in {@link outputParts}. */
  private append(reply: ReplyBytes): void {
    if (typeof reply === 'string') {
      this.output += reply;
      return;
    }
    this.outputParts.push(this.output + reply.head, reply.body);
    this.output = '';
  }

  private advance(): void {
    while (this.pendingHead < this.pending.length) {
      const slot = this.pending[this.pendingHead] as Slot;
      if (slot.cut === true) {
        this.cutHere();
        break;
      }
      if (slot.text === undefined) break;
      this.append(slot.text);
      this.pendingHead++;
    }
    if (this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
    } else if (this.pendingHead > 1024) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
    this.scheduleFlush();
  }

  /** Drops every reply from here on, reads no more, and closes once the replies before are written. */
  private cutHere(): void {
    this.cut = true;
    this.pending.length = 0;
    this.pendingHead = 0;
    if (!this.inputEnded) {
      this.inputEnded = true;
      this.stream.pause();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Replies go out after the I/O of this loop turn, so every reply due by then shares a write. And
    // an acknowledgement never leaves before the flood of its update (docs/operations.md
    // "Guarantees"): a link schedules its write the same way when the update is stored, which is
    // before its reply is queued, and immediates run in the order they were set.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed) return;
    const stream = this.stream;
    if (this.outputParts.length > 0) {
      // Strings and bodies in one write (a writev): the bodies' bytes are not copied.
      const parts = this.outputParts;
      this.outputParts = [];
      stream.cork();
      for (const part of parts) {
        if (typeof part === 'string') stream.write(part, REPLY_ENCODING);
        else stream.write(part);
      }
      if (this.output !== '') stream.write(this.output, REPLY_ENCODING);
      this.output = '';
      stream.uncork();
    } else if (this.output !== '') {
      const text = this.output;
      this.output = '';
      stream.write(text, REPLY_ENCODING);
    }
    this.updateFlow();
    this.maybeFinish();
  }

  /** Stops or resumes reading input by the two limits, and arms the slow-reader timer. */
  private updateFlow(): void {
    if (this.closed) return;
    const outputFull = this.stream.writableLength > this.limits.maxPendingOutputBytes;
    const shouldPause = !this.inputEnded && (outputFull || this.pendingReplies >= this.limits.maxPendingReplies);
    if (shouldPause && !this.paused) {
      this.paused = true;
      this.stream.pause();
    } else if (!shouldPause && this.paused) {
      this.paused = false;
      if (!this.inputEnded) this.stream.resume();
    }
    // A remote end that does not read keeps its output full: after the timeout it is dropped.
    if (outputFull && this.slowTimer === undefined) {
      this.handler.onSlowReader('paused');
      this.slowTimer = this.timers.setTimeout(() => {
        this.slowTimer = undefined;
        if (this.stream.writableLength > this.limits.maxPendingOutputBytes) {
          this.handler.onSlowReader('dropped');
          this.destroy('slow reader');
        }
      }, this.limits.slowReaderTimeoutMs);
    } else if (!outputFull && this.slowTimer !== undefined) {
      this.timers.clearTimeout(this.slowTimer);
      this.slowTimer = undefined;
    }
  }

  private maybeFinish(): void {
    if (
      this.inputEnded &&
      !this.ending &&
      !this.closed &&
      this.pendingReplies === 0 &&
      this.output === '' &&
      this.outputParts.length === 0 &&
      !this.flushScheduled
    ) {
      this.ending = true;
      // After an over-long line, or a refused reply, the remote may still be sending: close both directions.
      this.stream.end(() => {
        if (this.overflowed || this.cut) this.stream.destroy();
      });
    }
  }

  private close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
    this.handler.onClose(reason);
    this.resolveClosed();
  }
}
