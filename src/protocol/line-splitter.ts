/**
 * Line framing for the herd protocol (docs/protocol.md#framing): lines end in LF, a CR before the LF
 * is part of the terminator, data may be split at any byte (even inside a UTF-8 sequence), and a last
 * line without terminator counts when the sender half-closes. Lines stay bytes: each is handed on as
 * a range of the chunk it arrived in, so framing allocates nothing for a line that arrived whole.
 */

/**
 * Default {@link LineSplitterOptions.maxLineBytes}: 4 KiB, far above any valid command (and above
 * the longest line between servers, an anti-entropy SUMS line of about 2.2 KiB).
 */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Receives one line: `bytes[start, end)`, without its terminator. The bytes are valid only during
 * the call (a line split across chunks is gathered in a buffer the next line reuses): copy what is
 * kept (a binary string, src/protocol/bytes.ts, is a copy).
 */
export type LineHandler = (bytes: Buffer, start: number, end: number) => void;

/** Options of a {@link LineSplitter}. */
export interface LineSplitterOptions {
  /**
   * Longest line accepted, in bytes without the terminator. A longer line is never buffered whole:
   * the splitter calls `onOverflow` once with its first `maxLineBytes` bytes and ignores all further
   * input. @default {@link DEFAULT_MAX_LINE_BYTES}
   */
  readonly maxLineBytes?: number;
  /** Called once when a line exceeds `maxLineBytes`, with its first `maxLineBytes` bytes. */
  readonly onOverflow?: LineHandler;
}

/**
 * Turns a stream of byte chunks into lines. Memory held is bounded by `maxLineBytes` plus one chunk.
 */
export class LineSplitter {
  private readonly onLine: LineHandler;
  private readonly maxLineBytes: number;
  private readonly onOverflow: LineHandler | undefined;
  /** Bytes of the current, not yet terminated line. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private overflowed = false;

  /**
   * @param onLine - called synchronously for each complete line, in order.
   * @param options - limits; see {@link LineSplitterOptions}.
   */
  constructor(onLine: LineHandler, options: LineSplitterOptions = {}) {
    this.onLine = onLine;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.onOverflow = options.onOverflow;
  }

  /** True once a line went over the limit; the splitter then ignores all input. */
  get hasOverflowed(): boolean {
    return this.overflowed;
  }

  /**
   * Feeds the next chunk of bytes; calls `onLine` for every line it completes.
   *
   * @param reused - the chunk's memory is overwritten after this call (a socket's `onread` buffer):
   *   the unterminated rest is copied rather than kept as a view. @default false
   */
  push(chunk: Buffer, reused = false): void {
    if (this.overflowed) return;
    let start = 0;
    let newline = chunk.indexOf(LF, start);
    while (newline !== -1) {
      if (this.partialBytes === 0) {
        const end = newline > start && chunk[newline - 1] === CR ? newline - 1 : newline;
        if (end - start > this.maxLineBytes) {
          this.overflow(chunk, start);
          return;
        }
        this.onLine(chunk, start, end);
      } else {
        this.partial.push(chunk.subarray(start, newline));
        const line = Buffer.concat(this.partial, this.partialBytes + newline - start);
        this.partial = [];
        this.partialBytes = 0;
        if (!this.deliver(line)) return;
      }
      if (this.overflowed) return;
      start = newline + 1;
      newline = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) {
      const rest = reused ? Buffer.from(chunk.subarray(start)) : chunk.subarray(start);
      this.partial.push(rest);
      this.partialBytes += rest.length;
      // One byte of slack: the line may still end in CR LF, and the CR is not part of the line.
      if (this.partialBytes > this.maxLineBytes + 1) this.overflow(Buffer.concat(this.partial, this.partialBytes), 0);
    }
  }

  /**
   * Signals the end of input (the peer half-closed): a last line without terminator is delivered,
   * with a trailing CR removed like any terminator.
   */
  end(): void {
    if (this.overflowed || this.partialBytes === 0) return;
    const line = Buffer.concat(this.partial, this.partialBytes);
    this.partial = [];
    this.partialBytes = 0;
    this.deliver(line);
  }

  /** Hands on a whole gathered line; false when it was too long. */
  private deliver(line: Buffer): boolean {
    const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    if (end > this.maxLineBytes) {
      this.overflow(line, 0);
      return false;
    }
    this.onLine(line, 0, end);
    return true;
  }

  private overflow(bytes: Buffer, start: number): void {
    this.overflowed = true;
    this.partial = [];
    this.partialBytes = 0;
    this.onOverflow?.(bytes, start, start + this.maxLineBytes);
  }
}
