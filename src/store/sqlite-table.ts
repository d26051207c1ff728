/**
 * The SQLite table of a durable store and its one write, shared by the server's thread (open, read,
 * the last commit at close) and the writer thread (./sqlite-writer.ts, every other commit).
 */
import { closeSync, existsSync, fsyncSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Database from 'better-sqlite3';
import { rowCount } from './pending-rows.js';

/** How long a connection waits for another one's write lock before it fails, ms. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * SQLite's page cache of the writer thread's connection, which runs every commit, KiB (`PRAGMA
 * cache_size = -N`): the table's upper B-tree levels (about 3 MiB at a million clients) and, in a
 * table of up to some 100,000 clients, all of it stay in memory, so a commit reads fewer pages back
 * from the file. Larger buys nothing: 64 MiB held about 60 MB per server at a million clients (a
 * copy of pages the kernel's page cache holds anyway) for no CPU a row less than 16 MiB
 * (docs/benchmarks.md "Memory per client: where the RSS outside the heap went (2026-12-03)").
 */
export const WRITER_PAGE_CACHE_KIB = 16 * 1024;

/**
 * SQLite's page cache of every other connection, KiB: the server thread's own, which reads the
 * stored table once at start (each page once, in key order), looks single rows up while it loads, and
 * writes the last commit at close. SQLite's default (2,000 KiB): a larger cache would keep the pages
 * of the start's read for the whole life of the server.
 */
export const SERVER_PAGE_CACHE_KIB = 2_000;

/**
 * Pages the write-ahead log may hold before SQLite copies them into the database file
 * (`PRAGMA wal_autocheckpoint`): a page updated by several commits is copied once. At 4 KiB a page
 * the log grows to about 40 MiB between checkpoints.
 */
export const WAL_CHECKPOINT_PAGES = 10_000;

/** The tables, created when missing (`locations`: one AT line per client id; `meta`: the epoch). */
export const SCHEMA = `CREATE TABLE IF NOT EXISTS locations (client_id TEXT PRIMARY KEY, at_line TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`;

/**
 * The SQLite driver's native addon, given to the driver as `nativeBinding`: where its install builds
 * it (`build/Release`), else where the `bindings` package finds it in the driver's own folder (the
 * driver's own search, from the bundle (build/bundle.ts), would look beside the bundle instead).
 * Named rather than searched for: the search tries a dozen paths and costs some 5 ms of CPU per
 * thread that opens a connection, at every server's start. Undefined (the driver searches) when
 * neither finds it: the driver's error then says so at the first connection.
 */
const NATIVE_BINDING: string | undefined = (() => {
  try {
    const main = createRequire(import.meta.url).resolve('better-sqlite3');
    const root = path.join(path.dirname(main), '..');
    const addon = path.join(root, 'build', 'Release', 'better_sqlite3.node');
    if (existsSync(addon)) return addon;
    const bindings = createRequire(main)('bindings') as (options: object) => string;
    return bindings({ bindings: 'better_sqlite3.node', module_root: root, path: true });
  } catch {
    return undefined;
  }
})();

/**
 * Opens a connection with the store's settings: WAL, and `synchronous = FULL` so that a commit is on
 * disk when it returns (the WAL is synced at every commit). `temp_store = MEMORY`: a statement of
 * several rows ({@link prepareUpsert}) keeps the pages it changes in a statement journal, so that a
 * failing row undoes only its statement; in a temporary file (SQLite's default) every page of an
 * update was written to it once more, which cost a commit of updated clients a quarter more CPU than
 * statements of one row (docs/benchmarks.md "The durable store's upsert, rows per statement
 * (2026-12-03, shared box)").
 *
 * @param mustExist - fail when the file does not exist (the writer thread never creates one).
 * @param options.creating - the file does not exist yet and this connection creates it: the
 *   connection starts with `synchronous = OFF`, so that the creation's steps (the switch to WAL, the
 *   tables, the first epoch) are not each synced (five syncs, 3-76 ms of a first start on the
 *   reference box); call {@link settleCreated} once they are done. @default false
 * @param options.pageCacheKib - the connection's page cache, KiB: {@link WRITER_PAGE_CACHE_KIB} for
 *   the writer thread's. @default {@link SERVER_PAGE_CACHE_KIB}
 * @throws the SQLite error when the file cannot be opened.
 */
export function connect(
  file: string,
  mustExist: boolean,
  options: { readonly creating?: boolean; readonly pageCacheKib?: number } = {},
): Database.Database {
  const { creating = false, pageCacheKib = SERVER_PAGE_CACHE_KIB } = options;
  const db = new Database(file, { fileMustExist: mustExist, timeout: BUSY_TIMEOUT_MS, nativeBinding: NATIVE_BINDING });
  try {
    if (creating) db.pragma('synchronous = OFF');
    db.pragma('journal_mode = WAL');
    if (!creating) db.pragma('synchronous = FULL');
    db.pragma(`cache_size = -${pageCacheKib}`);
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    db.pragma('temp_store = MEMORY');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Ends the creation of a store opened by `connect(file, false, { creating: true })`: syncs the database file once
 * (its first page says WAL) and turns `synchronous = FULL` on, so that every commit from here on is
 * on disk when it returns, as with a store that existed. The tables and the epoch are in the WAL,
 * which the first commit syncs with them, and SQLite syncs the folder (the names of the new files)
 * at each connection's first sync of its WAL (seen with strace: the writer thread's first commit
 * syncs the WAL, then the folder).
 *
 * @throws the error of syncing `file` (a full or failing disk).
 */
export function settleCreated(db: Database.Database, file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  db.pragma('synchronous = FULL');
}

/**
 * Rows per statement of a commit's upsert, largest first: a commit runs as many statements of the
 * first size as it fills, then at most one of each smaller size (the rest's binary digits). Fewer
 * statements save the driver's call, binding and result object per row: a commit of new clients took
 * about a quarter less CPU than with one row a statement (docs/benchmarks.md "The durable store's
 * upsert, rows per statement (2026-12-03, shared box)"), and a small commit (some 25 rows a window at
 * light load) runs two or three statements rather than one per row past the first 16: some 6-10% less
 * CPU for the statements of 25-100 rows, too little to show beside the commit's `fsync`
 * (docs/benchmarks.md "The durable store's writer at light load (2026-12-03, shared box)"). 256 values
 * stay well under SQLite's bound on a statement's parameters (32,766).
 */
export const UPSERT_BLOCK_ROWS: readonly number[] = [128, 64, 32, 16, 8, 4, 2, 1];

/** The upsert of `rows` rows in one statement. */
function upsertSql(rows: number): string {
  const values = Array.from({ length: rows }, () => '(?, ?)').join(', ');
  return `INSERT INTO locations (client_id, at_line) VALUES ${values} ON CONFLICT (client_id) DO UPDATE SET at_line = excluded.at_line`;
}

/**
 * Prepares the commit of one batch: a transaction function (better-sqlite3's `Transaction`: call it,
 * or its `.immediate` to take the write lock at its start) that upserts `rows` (client id and AT line
 * alternating: `[id, line, id, line, ...]`, ./pending-rows.ts `RowBatch`), in client id order. A
 * client's row lives in a B-tree leaf found by its id: in id order each leaf is visited once per
 * commit, where in arrival order a large commit revisits leaves all over the table (measured: about
 * half the CPU of a commit, docs/benchmarks.md "Durable store commits (why they run on a writer
 * thread)"). A client with several rows gets the last of them (the newest): the sort is stable, and
 * the rows before it are skipped, so no statement holds a client twice. The rows go in statements of
 * several rows each ({@link UPSERT_BLOCK_ROWS}).
 *
 * @param guard - run first inside the transaction (after its `BEGIN`); what it throws rolls the
 *   transaction back and is thrown to the caller. One transaction, not one nested in another: a
 *   nested one is a savepoint, two more statements a commit.
 * @throws the SQLite error when the table is missing (when preparing) or the write fails (when called).
 */
export function prepareUpsert(
  db: Database.Database,
  guard?: () => void,
): Database.Transaction<(rows: readonly string[]) => void> {
  const statements = UPSERT_BLOCK_ROWS.map((size) => ({
    size,
    statement: db.prepare<[string[]]>(upsertSql(size)),
    values: new Array<string>(2 * size),
  }));
  return db.transaction((rows: readonly string[]) => {
    guard?.();
    const order = Array.from({ length: rowCount(rows) }, (_, i) => 2 * i);
    order.sort((a, b) => {
      const x = rows[a] as string;
      const y = rows[b] as string;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    let kept = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k] as number;
      const next = order[k + 1];
      if (next === undefined || rows[next] !== rows[i]) order[kept++] = i;
    }
    let k = 0;
    for (const { size, statement, values } of statements) {
      for (; k + size <= kept; k += size) {
        for (let j = 0; j < size; j++) {
          const i = order[k + j] as number;
          values[2 * j] = rows[i] as string;
          values[2 * j + 1] = rows[i + 1] as string;
        }
        statement.run(values);
      }
    }
  });
}

/** The byte that ends each client id and each AT line in a packed commit (neither holds one). */
const ROW_END = 0x0a;

/**
 * The rows of a commit as one buffer for the writer thread, to hand over in `postMessage`'s transfer
 * list (moved, not copied or serialised): client id and AT line alternating, each followed by `\n`,
 * one byte per character (both are binary strings of non-white-space fields, src/protocol/bytes.ts, so
 * neither holds a `\n`). Each string is written straight into the buffer, with no joined string in
 * between: joining the rows into one string and posting that (structured clone copies it) cost
 * several times as much on the server's thread (docs/benchmarks.md "Cost per operation").
 * {@link unpackRows} reads it back.
 *
 * @param rows - client id and AT line alternating (./pending-rows.ts `RowBatch`), binary strings
 *   (code units 0-255); at least one row.
 * @returns a buffer of its own (never a slice of Node's shared pool, so it can be transferred).
 */
export function packRows(rows: readonly string[]): ArrayBuffer {
  let length = rows.length;
  for (const text of rows) length += text.length;
  const bytes = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for (const text of rows) {
    at += bytes.write(text, at, text.length, 'latin1');
    bytes[at++] = ROW_END;
  }
  return bytes.buffer;
}

/**
 * The rows of a {@link packRows} buffer: client id and AT line alternating (as the commit takes
 * them, {@link prepareUpsert}), binary strings equal to those packed.
 */
export function unpackRows(packed: ArrayBuffer): string[] {
  const bytes = Buffer.from(packed);
  const rows: string[] = [];
  for (let start = 0; start < bytes.length;) {
    let end = bytes.indexOf(ROW_END, start);
    if (end === -1) end = bytes.length;
    rows.push(bytes.toString('latin1', start, end));
    start = end + 1;
  }
  return rows;
}
