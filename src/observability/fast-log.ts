/**
 * pino lines written from pre-serialised fields, for the events a server logs once per command and
 * once per flood (`command`, `flood-stored`, `flood-stale`): the same JSON line pino itself writes
 * (`{"level":30,"time":...,<the logger's bindings>,<fields>,"msg":...}`), without building an object
 * and walking it. Everything else goes through pino as usual. A unit test checks the lines against
 * pino's own for the same fields, so a pino upgrade that changes its format is caught.
 */
import { pino, type Logger } from 'pino';

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

/** Writes `info` lines of one pino logger from pre-serialised fields. */
export class FastLog {
  private readonly logger: Logger & PinoInternals;

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
  }

  /** True when the logger writes `info` lines. */
  get enabled(): boolean {
    return this.logger.levelVal <= INFO;
  }

  /**
   * Writes one `info` line.
   *
   * @param fields - the event's members as JSON, each with a leading comma: `,"event":"command",...`.
   * @param message - the `msg` member's value as JSON, e.g. `"IAMAT"`.
   */
  info(fields: string, message: string): void {
    if (this.logger.levelVal > INFO) return;
    const logger = this.logger;
    logger[pino.symbols.streamSym].write(
      `{"level":${INFO}${logger[pino.symbols.timeSym]()}${logger[pino.symbols.chindingsSym]}${fields},"msg":${message}}\n`,
    );
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
