/**
 * The SQLite table of a durable store and its one write, shared by the server's thread (open, read,
 * the last commit at close) and the writer thread (./sqlite-writer.ts, every other commit).
 */
import Database from 'better-sqlite3';

/** Rows per multi-row upsert statement in a commit. */
export const UPSERT_CHUNK_ROWS = 128;

/** How long a connection waits for another one's write lock before it fails, ms. */
export const BUSY_TIMEOUT_MS = 5_000;

/** The tables, created when missing (`locations`: one AT line per client id; `meta`: the epoch). */
export const SCHEMA = `CREATE TABLE IF NOT EXISTS locations (client_id TEXT PRIMARY KEY, at_line TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`;

/**
 * Opens a connection with the store's settings: WAL, and `synchronous = FULL` so that a commit is on
 * disk when it returns (the WAL is synced at every commit).
 *
 * @param mustExist - fail when the file does not exist (the writer thread never creates one).
 * @throws the SQLite error when the file cannot be opened.
 */
export function connect(file: string, mustExist: boolean): Database.Database {
  const db = new Database(file, { fileMustExist: mustExist, timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Prepares the commit of one batch: a function that upserts `rows` (client id and AT line
 * alternating: `[id, line, id, line, ...]`) in one transaction, in statements of
 * {@link UPSERT_CHUNK_ROWS} rows (one statement per row costs a commit most of its time).
 *
 * @throws the SQLite error when the table is missing (when preparing) or the write fails (when called).
 */
export function prepareUpsert(db: Database.Database): (rows: readonly string[]) => void {
  const upsertSql = (rows: number): string =>
    `INSERT INTO locations (client_id, at_line) VALUES ${Array.from({ length: rows }, () => '(?, ?)').join(', ')} ON CONFLICT (client_id) DO UPDATE SET at_line = excluded.at_line`;
  const one = db.prepare<[string, string]>(upsertSql(1));
  const chunk = db.prepare<string[]>(upsertSql(UPSERT_CHUNK_ROWS));
  const chunkLength = UPSERT_CHUNK_ROWS * 2;
  return db.transaction((rows: readonly string[]) => {
    let i = 0;
    for (; i + chunkLength <= rows.length; i += chunkLength) chunk.run(...rows.slice(i, i + chunkLength));
    for (; i + 1 < rows.length; i += 2) one.run(rows[i] as string, rows[i + 1] as string);
  });
}
