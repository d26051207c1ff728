/**
 * Durable location table: SQLite (better-sqlite3) in WAL mode with group commit. Updates are
 * buffered and written in one transaction every `commitIntervalMs`, off the IAMAT reply path and off
 * the event loop: the transactions run on a writer thread (./sqlite-writer.ts). With
 * `synchronous = FULL` each commit is on disk when it is reported. So a power cut loses at most the
 * updates of the last commit interval (and of a commit still running), and `whenCommitted()` lets a
 * caller wait for zero loss (docs/operations.md, "Durability"). Opening and reading the file is
 * ./sqlite-open.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { AtRecord } from '../protocol/at-record.js';
import type { SqliteLogOptions } from './sqlite-open.js';
import { prepareUpsert } from './sqlite-table.js';
import { CLOSE_WAIT_MS, COMMIT_INTERVAL_MS, COMMIT_MAX_ROWS } from './store-settings.js';
import {
  WRITER_FLAG_COUNT,
  WriterFlags,
  type CloseRequest,
  type CommitDone,
  type CommitRequest,
  type WriterData,
} from './sqlite-writer.js';

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
  readonly rows: Map<string, string>;
  waiting: Waiting | undefined;
}

// Run from the TypeScript sources (the tests, under tsx), the writer is a .ts file too.
const WRITER_URL = new URL(`./sqlite-writer${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** The on-disk copy of one server's location table. */
export class SqliteLocationLog {
  /** This thread's connection: the open, the read, and the last commit at close. */
  private readonly db: Database.Database;
  private readonly file: string;
  private readonly commitIntervalMs: number;
  private readonly closeWaitMs: number;
  private readonly log: SqliteLogOptions['logger'];
  private readonly flags = new Int32Array(new SharedArrayBuffer(WRITER_FLAG_COUNT * Int32Array.BYTES_PER_ELEMENT));
  private writer: Worker | undefined;
  private pending = new Map<string, string>();
  /** Callers of {@link whenCommitted} waiting for what is pending. */
  private waiting: Waiting | undefined;
  private inFlight: InFlight | undefined;
  private seq = 0;
  /** A commit is due right after this event-loop turn (someone waits). */
  private commitSoon = false;
  /** The interval passed while a commit ran: the next one starts when it returns. */
  private commitAfter = false;
  /** The last commit failed: retries follow the interval timer only. */
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Transactions committed since open. */
  commits = 0;

  /** Takes over `db`, opened and read by `openSqliteLog` (./sqlite-open.ts). */
  constructor(db: Database.Database, options: SqliteLogOptions) {
    this.db = db;
    this.file = options.file;
    this.log = options.logger;
    this.commitIntervalMs = options.commitIntervalMs ?? COMMIT_INTERVAL_MS;
    this.closeWaitMs = options.closeWaitMs ?? CLOSE_WAIT_MS;
    // Started now, while the server starts, so that the first commit does not wait for it to load.
    this.startWriter().unref();
  }

  /** Buffers a stored record for the next commit (a newer one for the same client replaces it). */
  write(update: AtRecord): void {
    if (this.closed) return;
    this.pending.set(update.clientId, update.atLine);
    this.timer ??= setTimeout(() => this.commit(), this.commitIntervalMs);
  }

  /**
   * Resolves when every record written so far is committed. A caller waiting (an IAMAT with
   * `store.sync`) starts a commit at once, right after the I/O of this event-loop turn, as group
   * commit does in databases: everything written until then shares that commit, and what arrives
   * while it runs goes into the next one, started when it returns, so the batch follows the load and
   * no timer is waited for.
   *
   * @throws (rejects) the SQLite error when that commit fails (the records stay pending and are
   *   retried at the next interval; until one succeeds, waiters wait for those retries).
   */
  whenCommitted(): Promise<void> {
    if (this.pending.size === 0) {
      const flight = this.inFlight;
      if (flight === undefined) return Promise.resolve();
      flight.waiting ??= newWaiting();
      return flight.waiting.promise;
    }
    this.waiting ??= newWaiting();
    if (!this.commitSoon && !this.failing && this.inFlight === undefined) {
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
   * when someone waits). While a commit runs, the next one starts when it returns.
   */
  commit(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0 || this.closed) return;
    if (this.inFlight !== undefined) {
      this.commitAfter = true;
      return;
    }
    let rows = this.pending;
    let waiting = this.waiting;
    if (rows.size <= COMMIT_MAX_ROWS) {
      this.pending = new Map();
      this.waiting = undefined;
    } else {
      // The oldest rows now, the rest when this commit returns; waiters wait for the last one.
      rows = new Map();
      for (const [clientId, atLine] of this.pending) {
        rows.set(clientId, atLine);
        this.pending.delete(clientId);
        if (rows.size === COMMIT_MAX_ROWS) break;
      }
      waiting = undefined;
      this.commitAfter = true;
    }
    const seq = ++this.seq;
    this.inFlight = { seq, rows, waiting };
    const request: CommitRequest = { type: 'commit', seq, rows: flatRows(rows).join('\n') };
    const writer = this.startWriter();
    writer.ref();
    writer.postMessage(request);
  }

  private startWriter(): Worker {
    if (this.writer !== undefined) return this.writer;
    const workerData: WriterData = { file: this.file, flags: this.flags.buffer };
    const writer = WRITER_URL.pathname.endsWith('.ts')
      ? // Node 20 does not pass `--import tsx` on to workers: the writer registers tsx itself.
        new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WRITER_URL.href)}); })`,
          { eval: true, workerData },
        )
      : new Worker(WRITER_URL, { workerData });
    writer.on('message', (done: CommitDone) => this.finished(done));
    let failure = 'exited';
    writer.on('error', (error) => {
      failure = error.message;
    });
    // Not at close (this.writer is cleared first): the thread died, so its commit failed.
    writer.on('exit', (code) => {
      if (this.writer !== writer) return;
      this.writer = undefined;
      this.log.error(
        { event: 'store-writer-failed', file: this.file, code, err: failure },
        `store writer thread failed (${failure}); a new one takes the next commit`,
      );
      const flight = this.inFlight;
      if (flight !== undefined) this.finished({ seq: flight.seq, ms: 0, error: failure });
    });
    this.writer = writer;
    return writer;
  }

  /** A commit returned from the writer thread. */
  private finished(done: CommitDone): void {
    const flight = this.inFlight;
    if (flight === undefined || flight.seq !== done.seq || this.closed) return;
    this.inFlight = undefined;
    this.writer?.unref();
    if (done.error === undefined) {
      this.commits++;
      this.failing = false;
      this.log.debug(
        { event: 'store-commit', rows: flight.rows.size, ms: Math.round(done.ms * 1000) / 1000 },
        'committed',
      );
      flight.waiting?.resolve();
    } else {
      this.failed(flight, new Error(done.error));
    }
    const again = this.commitAfter;
    this.commitAfter = false;
    if (this.pending.size === 0) return;
    if (!this.failing && (again || this.waiting !== undefined)) this.commit();
    else this.timer ??= setTimeout(() => this.commit(), this.commitIntervalMs);
  }

  /** A commit failed: its records are pending again (behind any newer ones), its waiters rejected. */
  private failed(flight: InFlight, error: Error): void {
    this.failing = true;
    this.log.error(
      { event: 'store-commit-failed', rows: flight.rows.size, err: error.message },
      'commit failed; retrying at the next interval',
    );
    this.requeue(flight.rows);
    flight.waiting?.reject(error);
  }

  /**
   * Commits what is pending and closes the file, synchronously (also from a crash handler): waits up
   * to `closeWaitMs` ({@link CLOSE_WAIT_MS}) for a commit the writer thread is running and for its close, then writes
   * the rest on this thread.
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
      const done = this.waitForFlag(WriterFlags.finished, flight.seq, deadline);
      if (done && Atomics.load(this.flags, WriterFlags.failed) !== flight.seq) {
        this.commits++;
        flight.waiting?.resolve();
      } else {
        // Failed or still running: written again below (the same rows again are harmless).
        this.requeue(flight.rows);
        waitings.push(flight.waiting);
      }
    }
    const writer = this.writer;
    this.writer = undefined;
    if (writer !== undefined) {
      writer.postMessage({ type: 'close' } satisfies CloseRequest);
      this.waitForFlag(WriterFlags.closed, 1, deadline);
      writer.unref();
    }
    const rows = this.pending;
    this.pending = new Map();
    this.waiting = undefined;
    try {
      if (rows.size > 0) {
        prepareUpsert(this.db)(flatRows(rows));
        this.commits++;
      }
      for (const waiting of waitings) waiting?.resolve();
    } catch (error) {
      this.log.error(
        { event: 'store-commit-failed', rows: rows.size, err: (error as Error).message },
        'last commit at close failed; peers will catch this server up',
      );
      for (const waiting of waitings) waiting?.reject(error as Error);
    } finally {
      this.db.close();
    }
  }

  /** Puts rows of a commit that did not happen back in the pending set, behind any newer row of the same client. */
  private requeue(rows: Map<string, string>): void {
    for (const [clientId, atLine] of rows) if (!this.pending.has(clientId)) this.pending.set(clientId, atLine);
  }

  /** Blocks this thread until the writer sets `flags[index]` to at least `value`, or the deadline. */
  private waitForFlag(index: number, value: number, deadline: number): boolean {
    for (;;) {
      const current = Atomics.load(this.flags, index);
      if (current >= value) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.flags, index, current, left);
    }
  }
}

/** The rows as the writer takes them: client id and AT line alternating. */
function flatRows(rows: Map<string, string>): string[] {
  const flat: string[] = [];
  for (const [clientId, atLine] of rows) flat.push(clientId, atLine);
  return flat;
}
