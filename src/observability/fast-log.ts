/**
 * pino lines written from pre-serialised fields, for the events a server logs once per command and
 * once per flood (`command`, `flood-stored`, `flood-stale`): the same JSON line pino itself writes
 * (`{"level":30,"time":...,<the logger's bindings>,<fields>,"msg":...}`), without building an object
 * and walking it. The line is built as a binary string (src/protocol/bytes.ts) of its UTF-8 bytes,
 * so that the bytes of a client's line go into the log buffer as they are (`LogFile.writeBinary`),
 * with no decoding and encoding in between. Everything else goes through pino as usual. A unit test
 * checks the lines against pino's own for the same fields, so a pino upgrade that changes its format
 * is caught.
 */
import { pino, type Logger } from 'pino';
import { binaryOfText } from '../protocol/bytes.js';
import { LogFile } from './log-file.js';

/** pino's number of the `info` level. */
const INFO = 30;
/** Longest line {@link FastLog.begin} writes in place, bytes; a longer one goes through {@link FastLog.info}. */
export const IN_PLACE_MAX_BYTES = 2048;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

interface PinoInternals {
  readonly levelVal: number;
  readonly [pino.symbols.streamSym]: { write(text: string): unknown };
  readonly [pino.symbols.timeSym]: () => string;
  readonly [pino.symbols.chindingsSym]: string;
}

/** A string as a JSON value (quotes, escapes), as pino writes strings. */
export const jsonString: (value: string) => string = JSON.stringify;

/** Whether a character or byte is printable ASCII and neither `"` nor `\\`: JSON writes it as itself. */
function isPlainCode(code: number): boolean {
  return code >= 0x20 && code <= 0x7e && code !== QUOTE && code !== BACKSLASH;
}

/** Whether a string is printable ASCII with no `"` or `\\`: its JSON value is itself, quoted. */
function isPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isPlainCode(text.charCodeAt(i))) return false;
  return true;
}

/**
 * A binary string (the bytes of a client's line, an AT line) as a JSON string value, itself a binary
 * string of the UTF-8 bytes pino would write for the text those bytes hold. Plain ASCII, the common
 * case, is only quoted. Bytes that are not valid UTF-8 (only ever in a line answered `? `) are
 * logged as U+FFFD, as decoding them would show them.
 */
export function jsonBinary(binary: string): string {
  if (isPlain(binary)) return `"${binary}"`;
  return binaryOfText(JSON.stringify(Buffer.from(binary, 'latin1').toString('utf8')));
}

/** JSON text made once (a binary string, e.g. `,"event":"command","conn":3,"line":`) as bytes, for {@link FastLog.raw}. */
export function bytesOfJson(binary: string): Buffer {
  return Buffer.from(binary, 'latin1');
}

/** Text (a reason, a name) as a JSON string value, a binary string of its UTF-8 bytes. */
export function jsonText(text: string): string {
  return isPlain(text) ? `"${text}"` : binaryOfText(JSON.stringify(text));
}

/** Writes `info` lines of one pino logger from pre-serialised fields. */
export class FastLog {
  private readonly logger: Logger & PinoInternals;
  /** The destination when it takes bytes as they are (the server's log file). */
  private readonly file: LogFile | undefined;
  /** The logger's bindings (`,"server":...`) as a binary string, read once: they never change here. */
  private readonly bindings: string;
  /** The logger stamps lines with pino's `epochTime` (`,"time":<Date.now()>`), its default. */
  private readonly epochTime: boolean;
  /** The buffer of the line being written in place ({@link begin}), and where its next byte goes. */
  private out: Buffer | undefined;
  private at = 0;
  /** The in-place line's end may not pass this offset. */
  private limit = 0;
  /** `{"level":30,"time":<ms>` and the bindings, for {@link prefixMs}: lines of one millisecond share it. */
  private prefix = '';
  private prefixMs = -1;
  /** {@link prefix} as bytes, and the millisecond it was made for. */
  private prefixBytes = Buffer.alloc(0);
  private prefixBytesMs = -1;

  /** @throws {TypeError} when `logger` is not a pino logger with the internals this relies on. */
  constructor(logger: Logger) {
    const internals = logger as Logger & PinoInternals;
    if (
      typeof internals[pino.symbols.timeSym] !== 'function' ||
      typeof internals[pino.symbols.chindingsSym] !== 'string' ||
      typeof internals[pino.symbols.streamSym]?.write !== 'function'
    ) {
      throw new TypeError('FastLog needs a pino logger (pino 10 internals not found)');
    }
    this.logger = internals;
    const stream = internals[pino.symbols.streamSym];
    this.file = stream instanceof LogFile ? stream : undefined;
    this.bindings = binaryOfText(internals[pino.symbols.chindingsSym]);
    this.epochTime = internals[pino.symbols.timeSym] === pino.stdTimeFunctions.epochTime;
  }

  /** True when the logger writes `info` lines. */
  get enabled(): boolean {
    return this.logger.levelVal <= INFO;
  }

  /**
   * Writes one `info` line.
   *
   * @param fields - the event's members as JSON, each with a leading comma: `,"event":"command",...`,
   *   a binary string of its UTF-8 bytes (plain ASCII is one; {@link jsonBinary} makes others).
   * @param message - the `msg` member's value as JSON, ASCII, e.g. `"IAMAT"`.
   */
  info(fields: string, message: string): void {
    const logger = this.logger;
    if (logger.levelVal > INFO) return;
    const line = `${this.prefixNow()}${fields},"msg":${message}}\n`;
    if (this.file !== undefined) this.file.writeBinary(line);
    else logger[pino.symbols.streamSym].write(Buffer.from(line, 'latin1').toString('utf8'));
  }

  /**
   * Begins an `info` line written straight into the log file's buffer, piece by piece ({@link text},
   * {@link jsonOf}, {@link jsonOfBytes}, then {@link end}): the line a command or a flood logs, with
   * no string built for it, no copy of its pieces and nothing for the garbage collector. The pieces
   * are the members {@link info} takes as `fields`, in order.
   *
   * @returns false when the line cannot be written in place (the level is above `info`, the
   *   destination is not a log file, or the file is closed): then write it with {@link info}.
   */
  begin(): boolean {
    const file = this.file;
    if (file === undefined || this.logger.levelVal > INFO) return false;
    const out = file.room(IN_PLACE_MAX_BYTES);
    if (out === undefined) return false;
    this.out = out;
    this.at = file.pendingBytes;
    this.limit = this.at + IN_PLACE_MAX_BYTES;
    if (this.epochTime) {
      // The prefix as bytes, made once a millisecond: one copy (the string is a concatenation).
      this.prefixNow();
      if (this.prefixBytesMs !== this.prefixMs) {
        this.prefixBytes = Buffer.from(this.prefix, 'latin1');
        this.prefixBytesMs = this.prefixMs;
      }
      this.raw(this.prefixBytes);
    } else {
      this.text(this.prefixNow());
    }
    return true;
  }

  /** Appends bytes as they are (JSON text made once, e.g. by {@link bytesOfJson}) to the line begun. */
  raw(bytes: Uint8Array): void {
    const out = this.room(bytes.length);
    if (out === undefined) return;
    out.set(bytes, this.at);
    this.at += bytes.length;
  }

  /**
   * Appends JSON text as it is (`,"event":"command","conn":3`) to the line begun: ASCII, or a binary
   * string of UTF-8 bytes.
   */
  text(ascii: string): void {
    const out = this.room(ascii.length);
    if (out === undefined) return;
    let at = this.at;
    for (let i = 0; i < ascii.length; i++) out[at++] = ascii.charCodeAt(i);
    this.at = at;
  }

  /**
   * Appends a binary string (its first `end` characters) as a JSON string value, as {@link jsonBinary}
   * would, when it is plain printable ASCII; otherwise the line is dropped and {@link end} says so.
   */
  jsonOf(binary: string, end = binary.length): void {
    const out = this.openString(end);
    if (out === undefined) return;
    let at = this.at;
    for (let i = 0; i < end; i++) {
      const code = binary.charCodeAt(i);
      if (!isPlainCode(code)) return this.drop();
      out[at++] = code;
    }
    this.closeString(at);
  }

  /** {@link jsonOf} of the bytes of `bytes` from `start` to `end` (a client's line as received). */
  jsonOfBytes(bytes: Uint8Array, start: number, end: number): void {
    const out = this.openString(end - start);
    if (out === undefined) return;
    let at = this.at;
    for (let i = start; i < end; i++) {
      const code = bytes[i] as number;
      if (!isPlainCode(code)) return this.drop();
      out[at++] = code;
    }
    this.closeString(at);
  }

  /**
   * Opens a JSON string of `length` plain characters in the line begun: its opening quote written,
   * room left for the rest and the closing quote.
   *
   * @returns the buffer to write the characters into from {@link at}; `undefined` as {@link room}.
   */
  private openString(length: number): Buffer | undefined {
    const out = this.room(length + 2);
    if (out === undefined) return undefined;
    out[this.at++] = QUOTE;
    return out;
  }

  /**
   * The buffer of the line begun, when `length` more bytes fit in it ({@link IN_PLACE_MAX_BYTES});
   * `undefined` when the line was dropped already or they do not fit (then it is dropped).
   */
  private room(length: number): Buffer | undefined {
    const out = this.out;
    if (out === undefined) return undefined;
    return this.at + length > this.limit ? this.drop() : out;
  }

  /** Closes the string {@link openString} opened, whose characters end at `at`. */
  private closeString(at: number): void {
    (this.out as Buffer)[at] = QUOTE;
    this.at = at + 1;
  }

  /** Drops the line begun: nothing of it is kept, and {@link end} says so. */
  private drop(): undefined {
    this.out = undefined;
    return undefined;
  }

  /**
   * Ends the line begun with `message` (the `msg` member's value as JSON, ASCII, e.g. `"IAMAT"`) and
   * hands it to the file.
   *
   * @returns false when the line was dropped (a piece was not plain ASCII, or it grew past
   *   {@link IN_PLACE_MAX_BYTES}): nothing was written; write it with {@link info}.
   */
  end(message: string): boolean {
    this.text(',"msg":');
    this.text(message);
    this.text('}\n');
    const out = this.out;
    if (out === undefined) return false;
    this.out = undefined;
    (this.file as LogFile).took(this.at);
    return true;
  }

  /**
   * The line's start, `{"level":30` with the time and the bindings. With pino's default time (POSIX
   * milliseconds) it is made once per millisecond, not per line: a busy server logs tens of lines a
   * millisecond. Any other time function is called per line.
   */
  private prefixNow(): string {
    if (!this.epochTime) return `{"level":${INFO}${this.logger[pino.symbols.timeSym]()}${this.bindings}`;
    const now = Date.now();
    if (now !== this.prefixMs) {
      this.prefixMs = now;
      this.prefix = `{"level":${INFO},"time":${now}${this.bindings}`;
    }
    return this.prefix;
  }
}

const byLogger = new WeakMap<Logger, FastLog>();

/** The {@link FastLog} of `logger` (one per logger). */
export function fastLogOf(logger: Logger): FastLog {
  let fast = byLogger.get(logger);
  if (fast === undefined) {
    fast = new FastLog(logger);
    byLogger.set(logger, fast);
  }
  return fast;
}
