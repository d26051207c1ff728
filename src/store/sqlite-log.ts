/**
 * Durable location table: SQLite (better-sqlite3) in WAL mode with group commit. Updates are
 * buffered and written in one transaction every `commitIntervalMs`, off the IAMAT reply path; with
 * `synchronous = FULL` each commit is on disk when it returns. So a power cut loses at most the
 * updates of the last commit interval, and `whenCommitted()` lets a caller wait for zero loss
 * (docs/operations.md, "Durability").
 */
import { existsSync, renameSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../observability/logger.js';
import { checkAtFields } from '../protocol/commands.js';
import { splitFields } from '../protocol/fields.js';
import type { LocationUpdate } from './location-store.js';

/** Rows per multi-row upsert statement in a commit. */
export const UPSERT_CHUNK_ROWS = 128;

/** Default {@link SqliteLogOptions.commitIntervalMs}. */
export const COMMIT_INTERVAL_MS = 50;

/** Where and how to keep the table. */
export interface SqliteLogOptions {
  /** The database file, e.g. `data/Alford.sqlite`; its folder is created. */
  readonly file: string;
  /** Longest time an update waits in memory before its commit, ms. @default {@link COMMIT_INTERVAL_MS} */
  readonly commitIntervalMs?: number;
  readonly logger: Logger;
}

/** What {@link SqliteLocationLog.open} found on disk. */
export interface OpenedLog {
  readonly log: SqliteLocationLog;
  /** Every record stored before, to load into the in-memory store. */
  readonly records: LocationUpdate[];
  /** This start's epoch: one more than the last start's, 1 for a new (or replaced) file. */
  readonly epoch: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** The on-disk copy of one server's location table. */
export class SqliteLocationLog {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement<[string, string]>;
  private readonly upsertChunk: Database.Statement<string[]>;
  private readonly commitBatch: (rows: Map<string, string>) => void;
  private readonly commitIntervalMs: number;
  private readonly log: Logger;
  private pending = new Map<string, string>();
  /** The promise every caller of {@link whenCommitted} since the last commit waits on. */
  private waiting: (Waiter & { promise: Promise<void> }) | undefined;
  /** A commit is due right after this event-loop turn (someone waits). */
  private commitSoon = false;
  /** The last commit failed: retries follow the interval timer only. */
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Transactions committed since open. */
  commits = 0;

  private constructor(db: Database.Database, options: SqliteLogOptions) {
    this.db = db;
    this.log = options.logger;
    this.commitIntervalMs = options.commitIntervalMs ?? COMMIT_INTERVAL_MS;
    const upsertSql = (rows: number): string =>
      `INSERT INTO locations (client_id, at_line) VALUES ${Array.from({ length: rows }, () => '(?, ?)').join(', ')} ON CONFLICT (client_id) DO UPDATE SET at_line = excluded.at_line`;
    this.upsert = db.prepare(upsertSql(1));
    // Rows go in statements of UPSERT_CHUNK_ROWS: one statement per row costs a commit most of its time.
    this.upsertChunk = db.prepare(upsertSql(UPSERT_CHUNK_ROWS));
    const params: string[] = [];
    this.commitBatch = db.transaction((rows: Map<string, string>) => {
      params.length = 0;
      for (const [clientId, atLine] of rows) {
        params.push(clientId, atLine);
        if (params.length === UPSERT_CHUNK_ROWS * 2) {
          this.upsertChunk.run(...params);
          params.length = 0;
        }
      }
      for (let i = 0; i < params.length; i += 2) this.upsert.run(params[i] as string, params[i + 1] as string);
    });
  }

  /**
   * Opens (or creates) the store and reads it. A file SQLite cannot read is moved aside to
   * `<file>.corrupt-<POSIX ms>` and logged at error level; the server then starts empty and its
   * peers catch it up.
   */
  static open(options: SqliteLogOptions): OpenedLog {
    mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
    const existed = existsSync(options.file);
    try {
      return SqliteLocationLog.openFile(options, existed);
    } catch (error) {
      const aside = `${options.file}.corrupt-${Date.now()}`;
      options.logger.error(
        { event: 'store-corrupt', file: options.file, movedTo: aside, err: (error as Error).message },
        `store ${options.file} is unreadable (${(error as Error).message}); moved it to ${aside} and starting empty; peers will catch this server up`,
      );
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(options.file + suffix)) renameSync(options.file + suffix, aside + suffix);
      }
      return SqliteLocationLog.openFile(options, false);
    }
  }

  private static openFile(options: SqliteLogOptions, existed: boolean): OpenedLog {
    const db = new Database(options.file);
    try {
      db.pragma('journal_mode = WAL');
      // FULL: a commit is durable when it returns (WAL is synced at every commit).
      db.pragma('synchronous = FULL');
      db.exec(`CREATE TABLE IF NOT EXISTS locations (client_id TEXT PRIMARY KEY, at_line TEXT NOT NULL) WITHOUT ROWID;
               CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
      const row = db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string } | undefined;
      const epoch = (row === undefined ? 0 : Number(row.value) || 0) + 1;
      db.prepare(
        "INSERT INTO meta (key, value) VALUES ('epoch', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ).run(String(epoch));
      const records: LocationUpdate[] = [];
      let unreadable = 0;
      for (const { at_line: atLine } of db.prepare('SELECT at_line FROM locations').iterate() as IterableIterator<{
        at_line: string;
      }>) {
        const message = checkAtFields(splitFields(atLine), atLine);
        if (message === undefined) {
          unreadable++;
          continue;
        }
        records.push({ clientId: message.clientId, atLine: message.line });
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

  /** Buffers a stored record for the next commit (a newer one for the same client replaces it). */
  write(update: LocationUpdate): void {
    if (this.closed) return;
    this.pending.set(update.clientId, update.atLine);
    this.timer ??= setTimeout(() => this.commit(), this.commitIntervalMs);
  }

  /**
   * Resolves when every record written so far is committed. A caller waiting (an IAMAT with
   * `store.sync`) starts a commit at once, right after the I/O of this event-loop turn, as group
   * commit does in databases: everything written until then shares that commit, and what arrives
   * while it runs goes into the next one, so the batch follows the load and no timer is waited for.
   *
   * @throws (rejects) the SQLite error when that commit fails (the records stay pending and are
   *   retried at the next interval; until one succeeds, waiters wait for those retries).
   */
  whenCommitted(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    if (this.waiting === undefined) {
      let settle: Waiter | undefined;
      const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      this.waiting = { promise, ...(settle as Waiter) };
    }
    if (!this.commitSoon && !this.failing) {
      this.commitSoon = true;
      setImmediate(() => {
        this.commitSoon = false;
        this.commit();
      });
    }
    return this.waiting.promise;
  }

  /** Commits what is pending now (also run by the timer, and right after the turn when someone waits). */
  commit(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0 || this.closed) return;
    const rows = this.pending;
    const waiting = this.waiting;
    this.pending = new Map();
    this.waiting = undefined;
    const started = performance.now();
    try {
      this.commitBatch(rows);
      this.commits++;
      this.failing = false;
      this.log.debug(
        { event: 'store-commit', rows: rows.size, ms: Math.round((performance.now() - started) * 1000) / 1000 },
        'committed',
      );
      waiting?.resolve();
    } catch (error) {
      this.failing = true;
      this.log.error(
        { event: 'store-commit-failed', rows: rows.size, err: (error as Error).message },
        'commit failed; retrying at the next interval',
      );
      for (const [clientId, atLine] of rows) if (!this.pending.has(clientId)) this.pending.set(clientId, atLine);
      waiting?.reject(error as Error);
      this.timer = setTimeout(() => this.commit(), this.commitIntervalMs);
    }
  }

  /** Commits what is pending and closes the file. */
  close(): void {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    // A commit that failed just now leaves its waiters rejected; nothing is left to wait for.
    clearTimeout(this.timer);
    this.db.close();
  }
}
