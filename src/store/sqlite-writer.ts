/**
 * The durable store's writer thread (a `worker_threads` Worker started by ./sqlite-log.ts): it runs
 * every commit on its own connection, so a transaction and its `fsync` never hold the server's event
 * loop. One message at a time, in order: a commit, or the close.
 *
 * Besides its reply message, each finished commit is published in the shared {@link WriterFlags},
 * which lets the server's thread wait for it synchronously (`Atomics.wait`) when it closes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { connect, prepareUpsert } from './sqlite-table.js';

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
} as const;

/** Length of the shared flags, in 32-bit integers. */
export const WRITER_FLAG_COUNT = 3;

/** A batch to commit: `rows` is client id and AT line alternating, joined by `\n` (neither holds one). */
export interface CommitRequest {
  readonly type: 'commit';
  readonly seq: number;
  readonly rows: string;
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
  /** The SQLite error's message when the commit failed (nothing was written). */
  readonly error?: string;
}

function serve(port: NonNullable<typeof parentPort>, data: WriterData): void {
  const flags = new Int32Array(data.flags);
  let db: Database.Database | undefined;
  let upsert: ((rows: readonly string[]) => void) | undefined;
  port.on('message', (request: CommitRequest | CloseRequest) => {
    if (request.type === 'close') {
      db?.close();
      Atomics.store(flags, WriterFlags.closed, 1);
      Atomics.notify(flags, WriterFlags.closed);
      port.close();
      return;
    }
    const started = performance.now();
    let done: CommitDone;
    try {
      db ??= connect(data.file, true);
      upsert ??= prepareUpsert(db);
      upsert(request.rows.split('\n'));
      done = { seq: request.seq, ms: performance.now() - started };
    } catch (error) {
      // Prepared again for the next batch: the table may have been repaired meanwhile.
      upsert = undefined;
      Atomics.store(flags, WriterFlags.failed, request.seq);
      done = { seq: request.seq, ms: performance.now() - started, error: (error as Error).message };
    }
    Atomics.store(flags, WriterFlags.finished, request.seq);
    Atomics.notify(flags, WriterFlags.finished);
    port.postMessage(done);
  });
}

// Only as the writer thread: the server's thread imports this module for its types and flags.
const data = workerData as Partial<WriterData> | null;
if (parentPort !== null && data?.flags instanceof SharedArrayBuffer) serve(parentPort, data as WriterData);
