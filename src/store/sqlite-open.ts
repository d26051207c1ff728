/**
 * Opening a server's durable store (docs/operations.md "Guarantees"): the file is created or opened,
 * this start's epoch is counted, and a file SQLite cannot read is moved aside. No row is read here:
 * the rows stored before are read afterwards, a page at a time, through {@link StoredRows}
 * (./restoring-store.ts loads them into the in-memory table after the server listens). The group
 * commit that follows is ./sqlite-log.ts.
 */
import { accessSync, constants, existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { checkAtLine, type AtRecord } from '../protocol/at-record.js';
import { SqliteLocationLog } from './sqlite-log.js';
import { connect, SCHEMA, settleCreated } from './sqlite-table.js';

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

/** What {@link openSqliteLog} opened. */
export interface OpenedLog {
  readonly log: SqliteLocationLog;
  /** The rows stored before (and since), read on demand. */
  readonly rows: StoredRows;
  /** This start's epoch: one more than the last start's, 1 for a new (or replaced) file. */
  readonly epoch: number;
  /** Whether the file was there before (false: created now, or replaced after being moved aside). */
  readonly existed: boolean;
}

/** A page of stored rows, from {@link StoredRows.page}. */
export interface StoredPage {
  /** The valid rows of the page, in client id order. */
  readonly records: AtRecord[];
  /** Rows of the page whose AT line is not a valid one (skipped). */
  readonly unreadable: number;
  /** Where the next page starts (after this key); `undefined` when the table ended. */
  readonly next: RowKey | undefined;
}

/**
 * A row's primary key as SQLite returned it (text, or bytes for a BLOB key), given back to
 * {@link StoredRows.page} as it is, so that the page order stays SQLite's own.
 */
export type RowKey = string | Uint8Array;

/**
 * The rows of the store's table, read on the server's thread with the connection of the
 * {@link SqliteLocationLog} (so only until it is closed). Each read is a short query of its own,
 * never a cursor held across event-loop turns, so the connection stays free between them. What the
 * writer thread has committed is seen (WAL); what is still pending in memory is not.
 */
export interface StoredRows {
  /**
   * Up to `limit` rows in client id order (SQLite's binary order), starting after client id `after`
   * (from the first row when `undefined`): a keyset page over the table's primary key, so each page
   * costs its rows, not its position.
   *
   * @throws the SQLite error when the file cannot be read (a corrupt page, an I/O error).
   */
  page(after: RowKey | undefined, limit: number): StoredPage;
  /**
   * The stored row of one client id (a primary key look-up), if it is there and valid.
   *
   * @throws the SQLite error when the file cannot be read.
   */
  one(clientId: string): AtRecord | undefined;
}

/**
 * Opens (or creates) the store, on this thread (before the server listens), without reading its
 * rows. A file SQLite cannot read is moved aside to `<file>.corrupt-<POSIX ms>` and logged at error
 * level; the server then starts empty and its peers catch it up.
 *
 * @throws {UsageError} naming the folder when the file's folder cannot be made, read or written.
 */
export function openSqliteLog(options: SqliteLogOptions): OpenedLog {
  const dir = path.dirname(path.resolve(options.file));
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `data folder ${dir}: cannot use it (${(error as NodeJS.ErrnoException).code ?? String(error)}); set dataDir in the config, or --data-dir, to a folder this user can write`,
      { cause: error },
    );
  }
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
  const db = connect(options.file, false, { creating: !existed });
  try {
    db.exec(SCHEMA);
    const row = db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string } | undefined;
    const epoch = (row === undefined ? 0 : Number(row.value) || 0) + 1;
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('epoch', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(String(epoch));
    if (!existed) settleCreated(db, options.file);
    const rows = storedRows(db);
    const log = new SqliteLocationLog(db, options);
    options.logger.info(
      { event: 'store-opened', file: options.file, existed, epoch },
      existed
        ? `store ${options.file} opened, epoch ${epoch}`
        : `store ${options.file} created (none before); peers will catch this server up`,
    );
    return { log, rows, epoch, existed };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** {@link StoredRows} over `db`; every stored AT line is checked by its codec (protocol/at-record.ts), as a flood's is. */
function storedRows(db: Database.Database): StoredRows {
  const first = db.prepare<[number], [RowKey, string]>(
    'SELECT client_id, at_line FROM locations ORDER BY client_id LIMIT ?',
  );
  const after = db.prepare<[RowKey, number], [RowKey, string]>(
    'SELECT client_id, at_line FROM locations WHERE client_id > ? ORDER BY client_id LIMIT ?',
  );
  const one = db.prepare<[string], string>('SELECT at_line FROM locations WHERE client_id = ?').pluck();
  first.raw();
  after.raw();
  return {
    page(from, limit) {
      const rows = from === undefined ? first.all(limit) : after.all(from, limit);
      const records: AtRecord[] = [];
      let unreadable = 0;
      for (const [, atLine] of rows) {
        const record = checkAtLine(atLine);
        if (record === undefined) unreadable++;
        else records.push(record);
      }
      const next = rows.length < limit ? undefined : (rows[rows.length - 1] as [RowKey, string])[0];
      return { records, unreadable, next };
    },
    one(clientId) {
      const atLine = one.get(clientId);
      return atLine === undefined ? undefined : checkAtLine(atLine);
    },
  };
}
