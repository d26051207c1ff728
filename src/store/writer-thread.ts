/**
 * The durable store's writer thread (./sqlite-writer.ts) as the server's thread drives it: started
 * once the server listens (or by its first commit, if that comes first), handed one commit at a time, started again after it dies, and closed at the end,
 * synchronously, by waiting on the flags it shares.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/logger.js';
import {
  WRITER_FLAG_COUNT,
  WriterFlags,
  type CloseRequest,
  type CommitDone,
  type CommitRequest,
  type WriterData,
} from './sqlite-writer.js';
import { writerScriptFromSource } from './writer-source.js';

// Run from the TypeScript sources (the tests, under tsx), the writer is a .ts file too.
const WRITER_URL = new URL(`./sqlite-writer${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** What the thread reports. */
export interface WriterThreadEvents {
  /** A commit finished (committed or failed). */
  readonly onDone: (done: CommitDone) => void;
  /** The thread died (not at close); `error` says why. The commit it ran, if any, did not happen. */
  readonly onExit: (error: string) => void;
}

/** One store's writer thread. */
export class WriterThread {
  private readonly file: string;
  private readonly log: Logger;
  private readonly events: WriterThreadEvents;
  private readonly flags = new Int32Array(new SharedArrayBuffer(WRITER_FLAG_COUNT * Int32Array.BYTES_PER_ELEMENT));
  private worker: Worker | undefined;
  private closed = false;

  /** The thread starts at {@link warm} or at the first {@link post}, not here: a start loads only what serving needs. */
  constructor(file: string, log: Logger, events: WriterThreadEvents) {
    this.file = file;
    this.log = log;
    this.events = events;
  }

  /**
   * Starts the thread if it is not running, so that the first commit does not wait for it to load
   * (a thread's start costs tens of ms of CPU: the server calls this once it listens).
   */
  warm(): void {
    // A thread already running may be committing: it keeps its reference.
    if (this.worker === undefined && !this.closed) this.start().unref();
  }

  /**
   * Hands commit `seq` of `rows` to the thread.
   *
   * @param rows - the batch packed by `packRows` (./sqlite-table.ts): transferred, so it is detached
   *   (empty) here afterwards.
   */
  post(seq: number, rows: ArrayBuffer): void {
    const worker = this.start();
    worker.ref();
    worker.postMessage({ type: 'commit', seq, rows } satisfies CommitRequest, [rows]);
  }

  /** No commit is running: the thread does not keep the process alive. */
  idle(): void {
    this.worker?.unref();
  }

  /**
   * At close: blocks this thread until commit `seq` has finished, or until `deadline`
   * (`performance.now()` time).
   *
   * @returns `committed`, `failed`, or `running` when the deadline came first.
   */
  waitFor(seq: number, deadline: number): 'committed' | 'failed' | 'running' {
    if (!this.waitForFlag(WriterFlags.finished, seq, deadline)) return 'running';
    return Atomics.load(this.flags, WriterFlags.failed) === seq ? 'failed' : 'committed';
  }

  /**
   * Closes the thread's connection, waiting for it until `deadline`. A thread still busy then (a
   * commit waiting for another process's lock) is abandoned, so that a commit of its that gets the
   * lock later rolls back rather than landing after the rows the caller writes next, and terminated.
   */
  close(deadline: number): void {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return;
    worker.postMessage({ type: 'close' } satisfies CloseRequest);
    if (!this.waitForFlag(WriterFlags.closed, 1, deadline)) {
      Atomics.store(this.flags, WriterFlags.abandoned, 1);
      this.log.warn(
        { event: 'store-writer-abandoned', file: this.file },
        'the store writer thread did not finish in time; terminated it (a commit of its can no longer land)',
      );
      // Kept referenced until it is gone: a commit blocked in SQLite ends at the lock's time-out at the latest.
      void worker.terminate();
      return;
    }
    worker.unref();
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const workerData: WriterData = { file: this.file, flags: this.flags.buffer };
    const worker = WRITER_URL.pathname.endsWith('.ts')
      ? // Node 20 does not pass `--import tsx` on to workers: the writer comes bundled (./writer-source.ts).
        new Worker(writerScriptFromSource(fileURLToPath(WRITER_URL)), { eval: true, workerData })
      : new Worker(WRITER_URL, { workerData });
    worker.on('message', (done: CommitDone) => {
      if (!this.closed) this.events.onDone(done);
    });
    let failure = 'exited';
    worker.on('error', (error) => {
      failure = error.message;
    });
    // Not at close (this.worker is cleared first): the thread died, so its commit failed.
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.log.error(
        { event: 'store-writer-failed', file: this.file, code, err: failure },
        `store writer thread failed (${failure}); a new one takes the next commit`,
      );
      this.events.onExit(failure);
    });
    this.worker = worker;
    return worker;
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
