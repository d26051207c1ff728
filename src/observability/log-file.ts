/**
 * The destination pino writes a server's log lines to: one file, appended to through one
 * preallocated buffer. A line is UTF-8 encoded straight into the buffer; the buffer goes to the file
 * in one `write` when it is nearly full, and at most {@link LOG_FLUSH_INTERVAL_MS} after a line came,
 * so `tail -f` stays live on a quiet server: a line that comes an interval or more after the last
 * write is written at the end of its event-loop turn (`setImmediate`: the loop is awake for it anyway,
 * so a light load's lines cost no timer wake-up), later ones when that interval ends. Memory is
 * bounded by the buffer, and a line costs no more than its own bytes.
 *
 * Why not pino's own `pino.destination()` (sonic-boom 4 and 5): its `write` measures the whole
 * pending batch with `Buffer.byteLength` on every line, so a line costs in proportion to what is
 * already buffered; on a busy server that was 15% of all CPU (docs/benchmarks.md). The writes here
 * are synchronous, like pino's default destination: a 64 KiB append to the page cache takes
 * microseconds, and a line is on its way to the file before the process can be killed mid-batch.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';

/** Longest time a log line waits in the buffer, ms. */
export const LOG_FLUSH_INTERVAL_MS = 100;
/** Size of the buffer lines are gathered in before one write to the file, bytes. */
export const LOG_BUFFER_BYTES = 64 * 1024;

/** Most UTF-8 bytes one UTF-16 code unit encodes to (a surrogate pair is 4 bytes for 2 units). */
const MAX_BYTES_PER_UNIT = 3;

/** Options of a {@link LogFile}. */
export interface LogFileOptions {
  /** @default {@link LOG_BUFFER_BYTES} */
  readonly bufferBytes?: number;
  /** @default {@link LOG_FLUSH_INTERVAL_MS} */
  readonly flushIntervalMs?: number;
  /** @default {@link SYSTEM_TIMERS} */
  readonly timers?: Timers;
  /** Where a failed write is reported (the log itself cannot be). @default process.stderr */
  readonly onError?: (error: Error) => void;
  /** Runs a callback at the end of the current event-loop turn. @default `setImmediate` */
  readonly afterTurn?: (callback: () => void) => void;
}

/** An append-only log file with a write buffer, for pino (`pino(options, new LogFile(path))`). */
export class LogFile {
  /** Absolute path of the file. */
  readonly file: string;
  /** Bytes written to the file since it was opened. */
  bytesWritten = 0;
  /** Bytes of lines lost to failed writes (disk full, ...). */
  bytesLost = 0;
  private fd: number | undefined;
  private readonly buffer: Buffer;
  private used = 0;
  private timer: TimerHandle | undefined;
  /** A write at the end of this turn is armed. */
  private soon = false;
  /** When the buffer last went to the file (`timers.now()`); the open counts as one. */
  private lastWriteMs: number;
  private readonly afterTurn: (callback: () => void) => void;
  private readonly timers: Timers;
  private readonly flushIntervalMs: number;
  private readonly onError: (error: Error) => void;

  /**
   * Opens `file` for appending, creating its folder.
   *
   * @throws the file system error (e.g. `EACCES`) when the file cannot be opened.
   */
  constructor(file: string, options: LogFileOptions = {}) {
    this.file = path.resolve(file);
    mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = openSync(this.file, 'a');
    this.buffer = Buffer.allocUnsafe(options.bufferBytes ?? LOG_BUFFER_BYTES);
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.flushIntervalMs = options.flushIntervalMs ?? LOG_FLUSH_INTERVAL_MS;
    this.afterTurn = options.afterTurn ?? ((callback) => void setImmediate(callback));
    this.lastWriteMs = this.timers.now();
    this.onError =
      options.onError ?? ((error) => process.stderr.write(`herd: cannot write ${this.file}: ${error.message}\n`));
  }

  /** Bytes waiting in the buffer. */
  get pendingBytes(): number {
    return this.used;
  }

  /** Buffers `text` (one or more whole lines) for the file, UTF-8 encoded; what pino calls for every line. */
  write(text: string): boolean {
    return this.append(text, text.length * MAX_BYTES_PER_UNIT, 'utf8');
  }

  /**
   * Buffers lines already encoded: a binary string (src/protocol/bytes.ts) whose characters are the
   * bytes to write, copied as they are (src/observability/fast-log.ts writes its lines so).
   */
  writeBinary(bytes: string): boolean {
    return this.append(bytes, bytes.length, 'latin1');
  }

  /**
   * Room for a line written straight into the buffer (src/observability/fast-log.ts writes its lines
   * so): makes sure `bytes` bytes are free after the {@link pendingBytes} buffered, writing those to
   * the file first when they are not, and returns the buffer. The line starts at offset
   * {@link pendingBytes}; {@link took} keeps it. Nothing written there counts until then.
   *
   * @returns the buffer; `undefined` when the file is closed or `bytes` is more than it holds.
   */
  room(bytes: number): Buffer | undefined {
    if (this.fd === undefined || bytes > this.buffer.length) return undefined;
    if (this.used + bytes > this.buffer.length) this.flushSync();
    return this.buffer;
  }

  /** Keeps the bytes written into the buffer after {@link room}, up to offset `end`. */
  took(end: number): void {
    this.used = end;
    if (this.timer === undefined && !this.soon) this.schedule();
  }

  private append(text: string, worst: number, encoding: 'utf8' | 'latin1'): boolean {
    if (this.fd === undefined) return false;
    if (this.used + worst > this.buffer.length) this.flushSync();
    if (worst > this.buffer.length) {
      this.writeOut(Buffer.from(text, encoding));
      return true;
    }
    this.used += this.buffer.write(text, this.used, encoding);
    if (this.timer === undefined && !this.soon) this.schedule();
    return true;
  }

  private schedule(): void {
    const waitMs = this.lastWriteMs + this.flushIntervalMs - this.timers.now();
    if (waitMs > 0) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.flushSync();
      }, waitMs);
      return;
    }
    this.soon = true;
    this.afterTurn(() => {
      this.soon = false;
      this.flushSync();
    });
  }

  /** Writes everything buffered to the file now. */
  flushSync(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.used === 0) return;
    this.lastWriteMs = this.timers.now();
    const bytes = this.buffer.subarray(0, this.used);
    this.used = 0;
    this.writeOut(bytes);
  }

  private writeOut(bytes: Buffer): void {
    if (this.fd === undefined) return;
    try {
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
      this.bytesWritten += bytes.length;
    } catch (error) {
      this.bytesLost += bytes.length;
      this.onError(error as Error);
    }
  }

  /**
   * Writes what is buffered, then opens `file` again (creating it) and closes the old descriptor:
   * after log rotation renamed the file away, new lines go to a new file of the same name. If the
   * new file cannot be opened, lines keep going to the old one and the error goes to `onError`.
   */
  reopen(): void {
    if (this.fd === undefined) return;
    this.flushSync();
    let fd: number;
    try {
      fd = openSync(this.file, 'a');
    } catch (error) {
      this.onError(error as Error);
      return;
    }
    const old = this.fd;
    this.fd = fd;
    try {
      closeSync(old);
    } catch (error) {
      // Called from a signal handler: never thrown from here.
      this.onError(error as Error);
    }
  }

  /** Writes what is buffered and closes the file; later lines are dropped. */
  close(): void {
    this.flushSync();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
