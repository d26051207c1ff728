/**
 * Per-server JSON-lines logs (PROTOCOL.md section 4) through pino: one file per server, named after
 * it, e.g. `logs/Alford.log`.
 */
import path from 'node:path';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** A server's logger and what is needed to shut it down without losing lines. */
export interface ServerLog {
  readonly logger: Logger;
  /** Absolute path of the log file. */
  readonly file: string;
  /** Writes every buffered line to the file, synchronously (call before exiting). */
  flushSync(): void;
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
  // Asynchronous writes (SonicBoom batches what piles up) keep logging off the reply path; flushSync at exit.
  const destination = pino.destination({ dest: file, mkdir: true, sync: false });
  const logger = pino(
    {
      level,
      base: { server: serverName, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Secrets never reach a log line (PROTOCOL.md section 4).
      redact: { paths: ['key', '*.key', 'apiKey', '*.apiKey', 'headers["x-goog-api-key"]'], censor: '[redacted]' },
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
  };
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
