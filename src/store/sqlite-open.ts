/**
 * Opening a server's durable store (docs/operations.md "Durability"): the file is created or read,
 * this start's epoch is counted, a file SQLite cannot read is moved aside, and the rows stored before
 * are read for the in-memory table. The group commit that follows is ./sqlite-log.ts.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';
import { checkAtLine, type AtRecord } from '../protocol/at-record.js';
import { SqliteLocationLog } from './sqlite-log.js';
import { connect, SCHEMA } from './sqlite-table.js';

/** Where and how to keep the table. */
export interface SqliteLogOptions {
  /** The database file, e.g. `data/Alford.sqlite`; its folder is created. */
  readonly file: string;
  /** Longest time an update waits in memory before its commit, ms. @default `COMMIT_INTERVAL_MS` (./store-settings.ts) */
  readonly commitIntervalMs?: number;
  /** Longest wait at close for the writer thread, ms. @default `CLOSE_WAIT_MS` (./store-settings.ts) */
  readonly closeWaitMs?: number;
  readonly logger: Logger;
}

/** What {@link openSqliteLog} found on disk. */
export interface OpenedLog {
  readonly log: SqliteLocationLog;
  /** Every record stored before, to load into the in-memory store. */
  readonly records: AtRecord[];
  /** This start's epoch: one more than the last start's, 1 for a new (or replaced) file. */
  readonly epoch: number;
}

/**
 * Opens (or creates) the store and reads it, on this thread (before the server listens). A file
 * SQLite cannot read is moved aside to `<file>.corrupt-<POSIX ms>` and logged at error level; the
 * server then starts empty and its peers catch it up.
 */
export function openSqliteLog(options: SqliteLogOptions): OpenedLog {
  mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
  const existed = existsSync(options.file);
  try {
    return openFile(options, existed);
  } catch (error) {
    const aside = `${options.file}.corrupt-${Date.now()}`;
    options.logger.error(
      { event: 'store-corrupt', file: options.file, movedTo: aside, err: (error as Error).message },
      `store ${options.file} is unreadable (${(error as Error).message}); moved it to ${aside} and starting empty; peers will catch this server up`,
    );
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(options.file + suffix)) renameSync(options.file + suffix, aside + suffix);
    }
    return openFile(options, false);
  }
}

function openFile(options: SqliteLogOptions, existed: boolean): OpenedLog {
  const db = connect(options.file, false);
  try {
    db.exec(SCHEMA);
    const row = db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string } | undefined;
    const epoch = (row === undefined ? 0 : Number(row.value) || 0) + 1;
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('epoch', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(String(epoch));
    const records: AtRecord[] = [];
    let unreadable = 0;
    for (const { at_line: atLine } of db.prepare('SELECT at_line FROM locations').iterate() as IterableIterator<{
      at_line: string;
    }>) {
      const record = checkAtLine(atLine);
      if (record === undefined) {
        unreadable++;
        continue;
      }
      records.push(record);
    }
    const log = new SqliteLocationLog(db, options);
    options.logger.info(
      { event: 'store-opened', file: options.file, existed, records: records.length, unreadable, epoch },
      existed
        ? `store ${options.file}: ${records.length} locations, epoch ${epoch}`
        : `store ${options.file} created (none before); peers will catch this server up`,
    );
    return { log, records, epoch };
  } catch (error) {
    db.close();
    throw error;
  }
}
