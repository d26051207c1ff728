/**
 * Per-server JSON-lines logs (docs/protocol.md "Logs") through pino: one file per server, named after
 * it, e.g. `logs/Alford.log`.
 */
import path from 'node:path';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { LogFile } from './log-file.js';

export type { Logger } from 'pino';

/** A server's logger and what is needed to shut it down without losing lines. */
export interface ServerLog {
  readonly logger: Logger;
  /** Absolute path of the log file. */
  readonly file: string;
  /** Writes every buffered line to the file, synchronously (call before exiting). */
  flushSync(): void;
  /**
   * Closes the log file and opens `<logDir>/<name>.log` again, after the lines already buffered are
   * written to the old one: what log rotation needs after it renamed the file (`herd serve` does it
   * on SIGHUP; docs/deploy.md "Log rotation").
   */
  reopen(): void;
}

/**
 * Opens (appending, creating folders as needed) the log file of one server.
 *
 * @param logDir - folder of the log files; relative paths resolve against the working directory.
 * @param serverName - the server; the file is `<logDir>/<serverName>.log` and every line carries
 *   `server: <serverName>`.
 * @param level - pino level; `info` logs every line in and out. @default 'info'
 */
export function openServerLog(logDir: string, serverName: string, level: LevelWithSilent = 'info'): ServerLog {
  const destination = new LogFile(path.join(logDir, `${serverName}.log`));
  const logger = pino(
    {
      level,
      base: { server: serverName, pid: process.pid },
      // POSIX milliseconds: an ISO string per line costs 6% of a busy server (docs/benchmarks.md).
      // Secrets are kept out of log objects at their source (places.md); there is no redaction pass.
    },
    destination,
  );
  return {
    logger,
    file: destination.file,
    flushSync: () => destination.flushSync(),
    reopen: () => destination.reopen(),
  };
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
