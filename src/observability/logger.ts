/**
 * Per-server JSON-lines logs (docs/protocol.md "Logs") through pino: one file per server, named after
 * it, e.g. `logs/Alford.log`.
 */
import path from 'node:path';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Longest time a log line waits in the write batch, ms. */
export const LOG_FLUSH_INTERVAL_MS = 100;

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
  const file = path.resolve(logDir, `${serverName}.log`);
  // Asynchronous writes in batches of up to 4 KiB keep logging off the reply path; the timer below
  // bounds how long a line can wait in the batch, so `tail -f` stays live on a quiet server.
  const destination = pino.destination({ dest: file, mkdir: true, sync: false, minLength: 4096 });
  const flushTimer = setInterval(() => {
    try {
      destination.flush();
    } catch {
      // Still opening: the next tick flushes.
    }
  }, LOG_FLUSH_INTERVAL_MS);
  flushTimer.unref();
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
    file,
    flushSync: () => {
      try {
        destination.flushSync();
      } catch {
        // Nothing buffered yet (the file is still opening): nothing to lose.
      }
    },
    reopen: () => destination.reopen(),
  };
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
