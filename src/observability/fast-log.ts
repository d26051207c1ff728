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

/** Writes `info` lines of one pino logger from pre-serialised fields. */
export class FastLog {
  private readonly logger: Logger & PinoInternals;
  /** The destination when it takes bytes as they are (the server's log file). */
  private readonly file: LogFile | undefined;
  /** The logger's bindings (`,"server":...`) as a binary string, read once: they never change here. */
  private readonly bindings: string;
  /** The logger stamps lines with pino's `epochTime` (`,"time":<Date.now()>`), its default. */
  private readonly epochTime: boolean;
  /** `{"level":30,"time":<ms>` and the bindings, for {@link prefixMs}: lines of one millisecond share it. */
  private prefix = '';
  private prefixMs = -1;

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
