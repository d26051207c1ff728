/**
 * The last commit of a durable store, at close, on the server's own thread (the writer thread is done
 * or abandoned by then: ./sqlite-log.ts). It goes to the file the path names now: the one opened at
 * start, or a new one when that was replaced or removed, which then gets the whole table
 * (docs/operations.md "When the store cannot write").
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { StoreUnavailableError } from '../errors.js';
import { rowCount, type RowBatch } from './pending-rows.js';
import { connect, prepareUpsert, SCHEMA } from './sqlite-table.js';
import { sameFile, type FileIdentity } from './store-file.js';
import { TableRewrite, type MirroredTable } from './table-rewrite.js';

/** What the last commit needs of its store. */
export interface LastCommit {
  /** The connection opened at start (closed by the caller). */
  readonly db: Database.Database;
  /** The store's path, and the file {@link db} has open. */
  readonly file: string;
  readonly dbFile: FileIdentity | undefined;
  /** The rows still to commit, oldest first; the table's rows are added to it when it is written whole. */
  readonly rows: RowBatch;
  /** The table the store mirrors, written whole into a file that lost rows. */
  readonly table: MirroredTable | undefined;
  /** A rewrite of the table under way, or due after the next commit. */
  readonly rewrite: TableRewrite | undefined;
  readonly rewriteDue: boolean;
}

/**
 * Writes the last rows (and the whole table, into a file that lost rows) in one go.
 *
 * @returns whether a transaction of rows was committed.
 * @throws the SQLite error, or a {@link StoreUnavailableError} `missing` when the data directory is gone.
 */
export function commitAtClose(last: LastCommit): boolean {
  const db = lastConnection(last);
  try {
    // A file that lost rows gets the whole table (after the queued rows: the table's lines are the newest).
    if ((db !== last.db || last.rewriteDue || last.rewrite !== undefined) && last.table !== undefined) {
      (last.rewrite ?? new TableRewrite(last.table)).rest(last.rows);
    }
    if (rowCount(last.rows) === 0) return false;
    prepareUpsert(db)(last.rows);
    return true;
  } finally {
    if (db !== last.db) db.close();
  }
}

/**
 * The connection for the last commit: the one opened at start while the path still names that file,
 * else a connection to the file there now (created, with its table, when its folder exists: the
 * writer thread replaced a damaged file, or the file was removed).
 */
function lastConnection(last: LastCommit): Database.Database {
  if (sameFile(last.file, last.dbFile)) return last.db;
  const exists = existsSync(last.file);
  if (!exists && !existsSync(path.dirname(last.file))) {
    throw new StoreUnavailableError('missing', `data directory ${path.dirname(last.file)} is gone`);
  }
  const db = connect(last.file, exists);
  if (!exists) db.exec(SCHEMA);
  return db;
}
