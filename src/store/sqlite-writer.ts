/**
 * The durable store's writer thread (a `worker_threads` Worker started by ./sqlite-log.ts): it runs
 * every commit on its own connection, so a transaction and its `fsync` never hold the server's event
 * loop. One message at a time, in order: a commit, or the close.
 *
 * Besides its reply message, each finished commit is published in the shared {@link WriterFlags},
 * which lets the server's thread wait for it synchronously (`Atomics.wait`) when it closes.
 *
 * Before each commit the writer checks that the path still names the file it has open: a store file
 * removed (or replaced) while the server runs is written again, new, when its folder exists; a file
 * SQLite finds damaged is moved aside and replaced. Either way the server then rewrites its whole table
 * into the new file (docs/operations.md "When the store cannot write").
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { StoreFailureReason } from '../errors.js';
import { connect, prepareUpsert, SCHEMA, unpackRows, WRITER_PAGE_CACHE_KIB } from './sqlite-table.js';
import { failureReason, identify, moveAside, sameFile, type FileIdentity } from './store-file.js';

/** What the writer is started with (`workerData`). */
export interface WriterData {
  /** The database file; it exists (the server's thread created it). */
  readonly file: string;
  /** An `Int32Array` of {@link WRITER_FLAG_COUNT} over this buffer: the {@link WriterFlags}. */
  readonly flags: SharedArrayBuffer;
}

/** Indices into the shared flags. */
export const WriterFlags = {
  /** The sequence number of the last commit finished, committed or failed. */
  finished: 0,
  /** The sequence number of the last commit that failed. */
  failed: 1,
  /** 1 once the writer has closed its connection. */
  closed: 2,
  /**
   * Set to 1 by the server's thread when it gives up waiting at close (`closeWaitMs`) and writes the
   * rest itself: a commit that gets the write lock after that rolls back instead of landing over the
   * newer rows of that last write.
   */
  abandoned: 3,
} as const;

/** Length of the shared flags, in 32-bit integers. */
export const WRITER_FLAG_COUNT = 4;

/** A batch to commit: `rows` is the batch packed by `packRows` (./sqlite-table.ts), transferred. */
export interface CommitRequest {
  readonly type: 'commit';
  readonly seq: number;
  readonly rows: ArrayBuffer;
}

/** Closes the connection; the writer then exits. */
export interface CloseRequest {
  readonly type: 'close';
}

/** The writer's answer to a {@link CommitRequest}: how long it took, or why it failed. */
export interface CommitDone {
  readonly seq: number;
  /** Time in the transaction, ms. */
  readonly ms: number;
  /** The SQLite error's code and message when the commit failed (nothing was written). */
  readonly error?: string;
  /** Why it failed, when it did. */
  readonly reason?: StoreFailureReason;
  /**
   * Set when this commit went into a new file, because the one the server had written was gone
   * (`missing`: removed, or replaced by another) or damaged (`corrupt`: moved aside to `movedTo`). The
   * new file holds only this commit's rows; the server then rewrites its whole table into it.
   */
  readonly recreated?: 'missing' | 'corrupt';
  /** Where the damaged file was moved. */
  readonly movedTo?: string;
}

/** The connection to the store's file, opened lazily, and dropped after a fault so that the next commit opens the file again. */
class StoreConnection {
  private readonly file: string;
  private readonly flags: Int32Array;
  private db: Database.Database | undefined;
  private upsert: ((rows: readonly string[]) => void) | undefined;
  /** The file first opened: a connection to any other file at the path is a new store. */
  private original: FileIdentity | undefined;
  private current: FileIdentity | undefined;

  constructor(file: string, flags: Int32Array) {
    this.file = file;
    this.flags = flags;
  }

  /**
   * Commits `rows`, in a transaction that first takes the write lock (`BEGIN IMMEDIATE`) and then
   * rolls back if the server has abandoned the writer meanwhile ({@link WriterFlags.abandoned}).
   *
   * @returns why the rows went into a new file, if they did.
   * @throws the SQLite or file system error; or a `missing` error when the data directory is gone.
   */
  commit(rows: readonly string[]): 'missing' | undefined {
    const recreated = this.open();
    (this.upsert as (rows: readonly string[]) => void)(rows);
    return recreated;
  }

  /** Moves a damaged file aside and commits `rows` into a new one. @returns the damaged file's new name. */
  replaceCorrupt(rows: readonly string[]): string {
    this.drop();
    const aside = moveAside(this.file);
    this.open();
    (this.upsert as (rows: readonly string[]) => void)(rows);
    return aside;
  }

  /** Opens the file when no connection is open, or when the path no longer names the open file. */
  private open(): 'missing' | undefined {
    if (this.db !== undefined && sameFile(this.file, this.current)) return undefined;
    this.drop();
    const exists = identify(this.file) !== undefined;
    if (!exists && !existsSync(path.dirname(this.file))) {
      // Never created again: a data directory on a mount that went away must not fill the disk below it.
      throw new StoreFileGone(`data directory ${path.dirname(this.file)} is gone`);
    }
    const db = connect(this.file, exists, { pageCacheKib: WRITER_PAGE_CACHE_KIB });
    try {
      if (!exists) db.exec(SCHEMA);
      const upsert = prepareUpsert(db, () => {
        if (Atomics.load(this.flags, WriterFlags.abandoned) !== 0) throw new Error('abandoned at close');
      });
      this.upsert = (rows) => upsert.immediate(rows);
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    this.current = identify(this.file);
    this.original ??= this.current;
    const fresh =
      this.current === undefined || this.current.dev !== this.original?.dev || this.current.ino !== this.original.ino;
    if (fresh) this.original = this.current;
    return fresh ? 'missing' : undefined;
  }

  /** Closes the connection (after a fault, or at close). */
  drop(): void {
    this.upsert = undefined;
    try {
      this.db?.close();
    } catch {
      // Already broken: nothing more to release.
    }
    this.db = undefined;
  }
}

/** The data directory is gone: nothing is created in its place. */
class StoreFileGone extends Error {
  readonly code = 'HERD_STORE_MISSING';
}

function serve(port: NonNullable<typeof parentPort>, data: WriterData): void {
  const flags = new Int32Array(data.flags);
  const connection = new StoreConnection(data.file, flags);
  port.on('message', (request: CommitRequest | CloseRequest) => {
    if (request.type === 'close') {
      connection.drop();
      Atomics.store(flags, WriterFlags.closed, 1);
      Atomics.notify(flags, WriterFlags.closed);
      port.close();
      return;
    }
    const started = performance.now();
    const rows = unpackRows(request.rows);
    let done: CommitDone;
    try {
      const recreated = connection.commit(rows);
      done = { seq: request.seq, ms: performance.now() - started, ...(recreated === undefined ? {} : { recreated }) };
    } catch (error) {
      done = failed(request.seq, started, error, data.file, connection, rows);
    }
    if (done.error !== undefined) Atomics.store(flags, WriterFlags.failed, request.seq);
    Atomics.store(flags, WriterFlags.finished, request.seq);
    Atomics.notify(flags, WriterFlags.finished);
    port.postMessage(done);
  });
}

/**
 * A commit that threw: a damaged file is moved aside and the rows go into a new one; after any other
 * fault but a lock or a full disk the connection is dropped, so the next commit opens the file again
 * (it may have been replaced, or its file system remounted).
 */
function failed(
  seq: number,
  started: number,
  error: unknown,
  file: string,
  connection: StoreConnection,
  rows: readonly string[],
): CommitDone {
  const reason = error instanceof StoreFileGone ? 'missing' : failureReason(error, file);
  if (reason === 'corrupt') {
    try {
      const movedTo = connection.replaceCorrupt(rows);
      return { seq, ms: performance.now() - started, recreated: 'corrupt', movedTo };
    } catch (again) {
      return failure(seq, started, again, failureReason(again, file), connection);
    }
  }
  return failure(seq, started, error, reason, connection);
}

function failure(
  seq: number,
  started: number,
  error: unknown,
  reason: StoreFailureReason,
  connection: StoreConnection,
): CommitDone {
  if (reason !== 'locked' && reason !== 'full') connection.drop();
  const code = (error as { code?: unknown }).code;
  const message =
    typeof code === 'string' && code.startsWith('SQLITE_')
      ? `${code}: ${(error as Error).message}`
      : (error as Error).message;
  return { seq, ms: performance.now() - started, error: message, reason };
}

// Only as the writer thread: the server's thread imports this module for its types and flags.
const data = workerData as Partial<WriterData> | null;
if (parentPort !== null && data?.flags instanceof SharedArrayBuffer) serve(parentPort, data as WriterData);
