/** A pino logger whose entries a test can read back. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** One parsed log entry. */
export interface LogEntry {
  readonly event?: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A logger writing JSON lines into memory, and the entries written so far. */
export function capturingLogger(): { logger: Logger; events: () => LogEntry[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { logger: pino(sink), events: () => lines.map((line) => JSON.parse(line) as LogEntry) };
}
