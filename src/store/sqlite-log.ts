/**
 * Durable location table: SQLite (better-sqlite3) in WAL mode with group commit. Updates are
 * buffered and written in one transaction every `commitIntervalMs`, off the IAMAT reply path and off
 * the event loop: the transactions run on a writer thread (./sqlite-writer.ts). With
 * `synchronous = FULL` each commit is on disk when it is reported. So a power cut loses at most the
 * updates of the last commit interval (and of a commit still running), and `whenCommitted()` lets a
 * caller wait for zero loss (docs/operations.md "Guarantees"). Opening and reading the file is
 * ./sqlite-open.ts.
 *
 * When commits fail (a full disk, a read-only, missing or damaged file: docs/operations.md "When the
 * store cannot write"), the rows stay queued up to {@link MAX_PENDING_ROWS} and are retried at least
 * every {@link FAILED_COMMIT_RETRY_MS}; their waiters are rejected with a {@link StoreUnavailableError};
 * the state is on `/status` (./store-health.ts). When the file had to be replaced, or queued rows were
 * dropped, the whole in-memory table is written again (./table-rewrite.ts).
 */
import type Database from 'better-sqlite3';
import type { StoreStatus } from '../core/status.js';
import { StoreUnavailableError, type StoreFailureReason } from '../errors.js';
import type { AtRecord } from '../protocol/at-record.js';
import type { PersistenceAttachment } from './persistence.js';
import type { SqliteLogOptions } from './sqlite-open.js';
import { commitAtClose } from './sqlite-close.js';
import { PendingRows, rowCount, type RowBatch } from './pending-rows.js';
import { packRows } from './sqlite-table.js';
import { databaseBytes, failureReason, identify, type FileIdentity } from './store-file.js';
import { StoreHealth } from './store-health.js';
import {
  CLOSE_WAIT_MS,
  COMMIT_INTERVAL_MS,
  COMMIT_MAX_ROWS,
  FAILED_COMMIT_RETRY_MS,
  MAX_PENDING_ROWS,
} from './store-settings.js';
import { TableRewrite, type MirroredTable } from './table-rewrite.js';
import type { CommitDone } from './sqlite-writer.js';
import { WriterThread } from './writer-thread.js';

/** The promise every caller of {@link SqliteLocationLog.whenCommitted} for one commit waits on. */
interface Waiting {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

function newWaiting(): Waiting {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A commit the writer thread is running. */
interface InFlight {
  readonly seq: number;
  readonly rows: RowBatch;
  waiting: Waiting | undefined;
}

/** The on-disk copy of one server's location table. */
export class SqliteLocationLog {
  /** This thread's connection: the open, the read, and the last commit at close. */
  private readonly db: Database.Database;
  /** The file {@link db} has open. */
  private readonly dbFile: FileIdentity | undefined;
  private readonly file: string;
  private readonly commitIntervalMs: number;
  private readonly closeWaitMs: number;
  private readonly log: SqliteLogOptions['logger'];
  private readonly health: StoreHealth;
  private readonly writer: WriterThread;
  /** Rows not yet handed to the writer, in batches of at most {@link COMMIT_MAX_ROWS}. */
  private pending = new PendingRows(COMMIT_MAX_ROWS);
  /** Callers of {@link whenCommitted} waiting for what is pending. */
  private waiting: Waiting | undefined;
  private inFlight: InFlight | undefined;
  private seq = 0;
  /** A commit is due right after this event-loop turn (someone waits). */
  private commitSoon = false;
  /** The interval passed while a commit ran: the next one starts when it returns. */
  private commitAfter = false;
  /** The last commit failed: retries follow {@link FAILED_COMMIT_RETRY_MS}, or a waiter. */
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The table this store mirrors, to rewrite it whole when the file lost rows. */
  private table: MirroredTable | undefined;
  /** The file lost rows (replaced, or rows dropped): rewrite the table after the next successful commit. */
  private rewriteDue = false;
  private rewrite: TableRewrite | undefined;
  /** Transactions committed since open. */
  commits = 0;

  /** Takes over `db`, opened and read by `openSqliteLog` (./sqlite-open.ts). */
  constructor(db: Database.Database, options: SqliteLogOptions) {
    this.db = db;
    this.file = options.file;
    this.dbFile = identify(options.file);
    this.log = options.logger;
    this.health = new StoreHealth(options.file, options.logger);
    this.commitIntervalMs = options.commitIntervalMs ?? COMMIT_INTERVAL_MS;
    this.closeWaitMs = options.closeWaitMs ?? CLOSE_WAIT_MS;
    this.writer = new WriterThread(options.file, options.logger, {
      onDone: (done) => this.finished(done),
      onExit: (error) => {
        const flight = this.inFlight;
        if (flight !== undefined) this.finished({ seq: flight.seq, ms: 0, error, reason: 'writer_exited' });
      },
    });
  }

  /** Starts the writer thread ahead of the first commit (called once the server listens). */
  startWriter(): void {
    this.writer.warm();
  }

  /** Connects the store to its server: the table it mirrors, and where commits and faults are counted. */
  attach(server: PersistenceAttachment): void {
    this.table = server.table;
    this.health.observer = server.observer;
  }

  /** The store's health, queue and size, as `/status` reports it. */
  status(): StoreStatus {
    const pendingRows =
      this.pending.size +
      (this.inFlight === undefined ? 0 : rowCount(this.inFlight.rows)) +
      (this.rewrite?.remaining ?? 0);
    const lastError = this.health.lastError;
    const bytes = databaseBytes(this.file);
    return {
      state: this.health.state,
      ...(lastError === undefined ? {} : { lastError }),
      pendingRows,
      ...(bytes === undefined ? {} : { bytes }),
    };
  }

  /**
   * Queues a stored record's row for the next commit, after every row queued before it (a client
   * updated again before the commit has two rows; the commit keeps the last, ./pending-rows.ts). While
   * commits fail, past {@link MAX_PENDING_ROWS} queued rows the queue is dropped (counted, logged, and
   * rewritten from memory once a commit succeeds) and its waiters are rejected.
   */
  write(update: AtRecord): void {
    if (this.closed) return;
    if (this.failing && this.pending.size >= MAX_PENDING_ROWS) {
      this.health.dropped(this.pending.size, MAX_PENDING_ROWS);
      this.waiting?.reject(
        new StoreUnavailableError('overflow', `over ${MAX_PENDING_ROWS} rows waited for a commit while commits failed`),
      );
      this.waiting = undefined;
      this.pending = new PendingRows(COMMIT_MAX_ROWS);
      this.rewriteDue = true;
    }
    this.pending.push(update.clientId, update.atLine);
    this.timer ??= setTimeout(() => this.commit(), this.failing ? FAILED_COMMIT_RETRY_MS : this.commitIntervalMs);
  }

  /**
   * Resolves when every record written so far is committed. A caller waiting (an IAMAT with
   * `store.sync`) starts a commit at once, right after the I/O of this event-loop turn, as group
   * commit does in databases: everything written until then shares that commit, and what arrives
   * while it runs goes into the next one, started when it returns, so the batch follows the load and
   * no timer is waited for. While commits fail, each waiter's commit is a new attempt.
   *
   * @throws {StoreUnavailableError} (rejects) when that commit fails (the records stay pending and
   *   are retried), or when they were dropped at {@link MAX_PENDING_ROWS}.
   */
  whenCommitted(): Promise<void> {
    if (this.pending.size === 0) {
      const flight = this.inFlight;
      if (flight === undefined) return Promise.resolve();
      flight.waiting ??= newWaiting();
      return flight.waiting.promise;
    }
    this.waiting ??= newWaiting();
    if (!this.commitSoon && this.inFlight === undefined) {
      this.commitSoon = true;
      setImmediate(() => {
        this.commitSoon = false;
        this.commit();
      });
    }
    return this.waiting.promise;
  }

  /**
   * Hands what is pending to the writer thread now (also run by the timer, and right after the turn
   * when someone waits). While a commit runs, the next one starts when it returns. A table rewrite
   * under way fills the rest of the batch.
   */
  commit(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || (this.pending.size === 0 && this.rewrite === undefined)) return;
    if (this.inFlight !== undefined) {
      this.commitAfter = true;
      return;
    }
    // The oldest batch now; with more waiting, the rest when this commit returns, and waiters wait for the last one.
    const rows = this.pending.take();
    let waiting = this.waiting;
    if (this.pending.size === 0) {
      this.waiting = undefined;
    } else {
      waiting = undefined;
      this.commitAfter = true;
    }
    const rewrite = this.rewrite;
    // While commits fail, a retry carries only the queued rows (when there are any), not more.
    if (rewrite !== undefined && (!this.failing || rows.length === 0)) {
      rewrite.fill(rows, COMMIT_MAX_ROWS);
      if (rewrite.done) this.finishRewrite();
      else this.commitAfter = true;
    }
    if (rows.length === 0) return;
    const seq = ++this.seq;
    this.inFlight = { seq, rows, waiting };
    this.writer.post(seq, packRows(rows));
  }

  /** A commit returned from the writer thread. */
  private finished(done: CommitDone): void {
    const flight = this.inFlight;
    if (flight === undefined || flight.seq !== done.seq || this.closed) return;
    this.inFlight = undefined;
    this.writer.idle();
    if (done.error === undefined) {
      this.commits++;
      this.failing = false;
      this.health.committed(rowCount(flight.rows), done.ms);
      this.log.debug(
        { event: 'store-commit', rows: rowCount(flight.rows), ms: Math.round(done.ms * 1000) / 1000 },
        'committed',
      );
      if (done.recreated !== undefined) this.replaced(done.recreated, done.movedTo);
      if (this.rewriteDue) this.startRewrite();
      flight.waiting?.resolve();
    } else {
      this.failed(flight, done.reason ?? 'io', done.error);
    }
    const again = this.commitAfter;
    this.commitAfter = false;
    if (this.pending.size === 0 && this.rewrite === undefined) return;
    // After a failure only a waiter retries at once; the rest waits for the retry timer.
    if (this.waiting !== undefined || (again && !this.failing)) this.commit();
    else this.timer ??= setTimeout(() => this.commit(), this.failing ? FAILED_COMMIT_RETRY_MS : this.commitIntervalMs);
  }

  /** A commit failed: its records are pending again (behind any newer ones), its waiters rejected. */
  private failed(flight: InFlight, reason: StoreFailureReason, error: string): void {
    this.failing = true;
    this.health.failed(reason, error, rowCount(flight.rows));
    this.requeue(flight.rows);
    flight.waiting?.reject(new StoreUnavailableError(reason, `commit failed: ${error}`));
  }

  /** The writer put the last commit into a new file: everything else must be written into it too. */
  private replaced(why: 'missing' | 'corrupt', movedTo: string | undefined): void {
    this.log.warn(
      { event: 'store-replaced', file: this.file, reason: why, movedTo, rows: this.table?.size ?? 0 },
      why === 'corrupt'
        ? `store ${this.file} has a damaged page; moved it to ${movedTo ?? '?'} and writing the table from memory into a new file`
        : `store ${this.file} was removed or replaced while running; writing the table from memory into the file now at that path`,
    );
    this.rewriteDue = true;
  }

  private startRewrite(): void {
    this.rewriteDue = false;
    if (this.table === undefined) return;
    this.rewrite = new TableRewrite(this.table);
    this.log.info(
      { event: 'store-rewrite', file: this.file, rows: this.table.size },
      `rewriting ${this.table.size} locations from memory into ${this.file}`,
    );
  }

  private finishRewrite(): void {
    this.rewrite = undefined;
    this.log.info({ event: 'store-rewritten', file: this.file }, `${this.file} holds the whole table again`);
  }

  /**
   * Commits what is pending and closes the file, synchronously (also from a crash handler): waits up
   * to `closeWaitMs` ({@link CLOSE_WAIT_MS}) for a commit the writer thread is running and for its
   * close, then writes the rest on this thread. A writer still busy then is abandoned and terminated:
   * a commit of its that gets the write lock after that rolls back, so it never lands over the
   * newer rows written here.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = performance.now() + this.closeWaitMs;
    const waitings: (Waiting | undefined)[] = [this.waiting];
    const flight = this.inFlight;
    this.inFlight = undefined;
    if (flight !== undefined) {
      if (this.writer.waitFor(flight.seq, deadline) === 'committed') {
        this.commits++;
        flight.waiting?.resolve();
      } else {
        // Failed or still running: written again below (the same rows again are harmless).
        this.requeue(flight.rows);
        waitings.push(flight.waiting);
      }
    }
    this.writer.close(deadline);
    const rows = this.pending.drain();
    this.waiting = undefined;
    try {
      const last = { db: this.db, file: this.file, dbFile: this.dbFile, table: this.table, rows };
      if (commitAtClose({ ...last, rewrite: this.rewrite, rewriteDue: this.rewriteDue })) this.commits++;
      for (const waiting of waitings) waiting?.resolve();
    } catch (error) {
      const reason = failureReason(error, this.file);
      this.log.error(
        { event: 'store-commit-failed', rows: rowCount(rows), reason, err: (error as Error).message },
        'last commit at close failed; peers will catch this server up',
      );
      for (const waiting of waitings) waiting?.reject(new StoreUnavailableError(reason, (error as Error).message));
    } finally {
      this.db.close();
    }
  }

  /** Puts rows of a commit that did not happen back in the queue, before every row queued since (newer ones). */
  private requeue(rows: RowBatch): void {
    this.pending.requeue(rows);
  }
}
