/**
 * pino lines written from pre-serialised fields, for the events a server logs once per command and
 * once per flood (`command`, `flood-stored`, `flood-stale`): the same JSON line pino itself writes
 * (`{"level":30,"time":...,<the logger's bindings>,<fields>,"msg":...}`), without building an object
 * and walking it. The line is written part by part as bytes ({@link FastLog.begin}, `raw`, `json*`,
 * {@link FastLog.end}) into one reused buffer, the bytes of a client's line copied as they are from
 * the buffer it arrived in, and then into the log file's buffer (`LogFile.writeBytes`): no string is
 * built for the line, and no decoding and encoding happens in between (issue 22: building the line as
 * a string of about ten parts, then flattening it, cost more than its bytes). Everything else goes
 * through pino as usual. A unit test
 * checks the lines against pino's own for the same fields, so a pino upgrade that changes its format
 * is caught.
 */
import { pino, type Logger } from 'pino';
import { binaryOfText } from '../protocol/bytes.js';
import { LogFile } from './log-file.js';

/** pino's number of the `info` level. */
const INFO = 30;
/** First size of a {@link FastLog}'s line buffer, bytes; it doubles when a line needs more. */
const LINE_BUFFER_BYTES = 1024;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether a byte (or code unit) stands for itself in a JSON string: printable ASCII but `"` and `\\`. */
function isPlainCode(code: number): boolean {
  return code >= 0x20 && code <= 0x7e && code !== QUOTE && code !== BACKSLASH;
}

interface PinoInternals {
  readonly levelVal: number;
  readonly [pino.symbols.streamSym]: { write(text: string): unknown };
  readonly [pino.symbols.timeSym]: () => string;
  readonly [pino.symbols.chindingsSym]: string;
}

/** A string as a JSON value (quotes, escapes), as pino writes strings. */
export const jsonString: (value: string) => string = JSON.stringify;

/** Whether a string is printable ASCII with no `"` or `\\`: its JSON value is itself, quoted. */
function isPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return false;
  }
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

/** Text (a reason, a name) as a JSON string value, a binary string of its UTF-8 bytes. */
export function jsonText(text: string): string {
  return isPlain(text) ? `"${text}"` : binaryOfText(JSON.stringify(text));
}

/**
 * Writes `info` lines of one pino logger from pre-serialised fields: either whole
 * ({@link FastLog.info}), or part by part into its line buffer:
 *
 *     if (log.begin()) { log.raw(',"event":"x","line":'); log.jsonBytes(bytes, start, end); log.end('"msg"'); }
 */
export class FastLog {
  private readonly logger: Logger & PinoInternals;
  /** The destination when it takes bytes as they are (the server's log file). */
  private readonly file: LogFile | undefined;
  /** The logger's bindings (`,"server":...`) as a binary string, read once: they never change here. */
  private readonly bindings: string;
  /** The logger stamps lines with pino's `epochTime` (`,"time":<Date.now()>`), its default. */
  private readonly epochTime: boolean;
  /** `{"level":30,"time":<ms>` and the bindings, for {@link prefixMs}: lines of one millisecond share it. */
  private prefix: Buffer = Buffer.alloc(0);
  private prefixMs = -1;
  /** The line being written: its bytes so far are `line[0, at)`. */
  private line: Buffer = Buffer.allocUnsafe(LINE_BUFFER_BYTES);
  private at = 0;

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
    if (!this.begin()) return;
    this.raw(fields);
    this.end(message);
  }

  /**
   * Starts an `info` line: its level, time and the logger's bindings. Then add the event's members
   * with {@link raw} and the `json*` methods, and write the line with {@link end}.
   *
   * @returns false, and nothing is started, when the logger does not write `info` lines.
   */
  begin(): boolean {
    if (this.logger.levelVal > INFO) return false;
    const prefix = this.prefixNow();
    this.at = 0;
    this.room(prefix.length);
    this.line.set(prefix);
    this.at = prefix.length;
    return true;
  }

  /**
   * Appends JSON as it is: ASCII, or a binary string of UTF-8 bytes (e.g. `,"event":"command"`, or
   * what {@link jsonText} made once and kept).
   */
  raw(json: string): void {
    this.room(json.length);
    const line = this.line;
    let at = this.at;
    for (let i = 0; i < json.length; i++) line[at++] = json.charCodeAt(i);
    this.at = at;
  }

  /**
   * Appends `bytes[start, end)` as a JSON string value: the text those bytes hold as UTF-8, as pino
   * writes it. Plain ASCII, the common case, is copied between quotes; other bytes are decoded, so
   * bytes that are not valid UTF-8 (only ever in a line answered `? `) are logged as U+FFFD.
   */
  jsonBytes(bytes: Uint8Array, start: number, end: number): void {
    this.room(end - start + 2);
    const line = this.line;
    const mark = this.at;
    let at = mark;
    line[at++] = QUOTE;
    for (let i = start; i < end; i++) {
      const code = bytes[i] as number;
      if (!isPlainCode(code)) {
        this.at = mark;
        this.jsonOfText(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'));
        return;
      }
      line[at++] = code;
    }
    line[at++] = QUOTE;
    this.at = at;
  }

  /**
   * Appends the first `length` characters of a binary string (src/protocol/bytes.ts) as a JSON string
   * value, as {@link jsonBytes} does its bytes.
   */
  jsonBinary(binary: string, length = binary.length): void {
    this.room(length + 2);
    const line = this.line;
    const mark = this.at;
    let at = mark;
    line[at++] = QUOTE;
    for (let i = 0; i < length; i++) {
      const code = binary.charCodeAt(i);
      if (!isPlainCode(code)) {
        this.at = mark;
        this.jsonOfText(Buffer.from(binary.slice(0, length), 'latin1').toString('utf8'));
        return;
      }
      line[at++] = code;
    }
    line[at++] = QUOTE;
    this.at = at;
  }

  /** Appends text (a reason, a name: JavaScript text, not bytes) as a JSON string value. */
  jsonText(text: string): void {
    this.jsonOfText(text);
  }

  /** Ends the line with its `msg` (JSON, ASCII, e.g. `"IAMAT"`) and writes it. */
  end(message: string): void {
    this.raw(',"msg":');
    this.raw(message);
    this.raw('}\n');
    if (this.file !== undefined) this.file.writeBytes(this.line, 0, this.at);
    else this.logger[pino.symbols.streamSym].write(this.line.toString('utf8', 0, this.at));
    this.at = 0;
  }

  private jsonOfText(text: string): void {
    const json = JSON.stringify(text);
    // At most 3 UTF-8 bytes per UTF-16 code unit.
    this.room(json.length * 3);
    this.at += this.line.write(json, this.at, 'utf8');
  }

  /** Makes room in the line buffer for `bytes` more bytes. */
  private room(bytes: number): void {
    if (this.at + bytes <= this.line.length) return;
    let size = this.line.length * 2;
    while (size < this.at + bytes) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.line.copy(bigger, 0, 0, this.at);
    this.line = bigger;
  }

  /**
   * The line's start, `{"level":30` with the time and the bindings, as bytes. With pino's default
   * time (POSIX milliseconds) it is made once per millisecond, not per line: a busy server logs tens
   * of lines a millisecond. Any other time function is called per line.
   */
  private prefixNow(): Buffer {
    if (!this.epochTime) {
      return Buffer.from(`{"level":${INFO}${this.logger[pino.symbols.timeSym]()}${this.bindings}`, 'latin1');
    }
    const now = Date.now();
    if (now !== this.prefixMs) {
      this.prefixMs = now;
      this.prefix = Buffer.from(`{"level":${INFO},"time":${now}${this.bindings}`, 'latin1');
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
