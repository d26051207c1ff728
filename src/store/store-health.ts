/**
 * The durable store's health as operators see it (docs/operations.md "When the store cannot write"):
 * the state `/status` reports, the metrics hooks of every commit, and the log lines of faults, at most
 * one a second however often commits fail.
 */
import type { StoreState } from '../core/status.js';
import type { StoreFailureReason } from '../errors.js';
import { LogThrottle } from '../observability/log-throttle.js';
import type { Logger } from '../observability/logger.js';
import { NOOP_OBSERVER, type ServerObserver } from '../observability/observer.js';

/** The hooks a store reports to. */
export type StoreObserver = Pick<ServerObserver, 'storeCommit' | 'storeFailure' | 'storeDropped'>;

/** Tracks commits and faults of one store. */
export class StoreHealth {
  private readonly file: string;
  private readonly log: Logger;
  private readonly failureLog = new LogThrottle();
  private readonly overflowLog = new LogThrottle();
  private stateValue: StoreState = 'ok';
  private lastErrorValue: string | undefined;
  /** `performance.now()` of the first failure of the current fault. */
  private failingSince: number | undefined;
  private failuresSince = 0;
  /** Where commits and faults are counted. @default none */
  observer: StoreObserver = NOOP_OBSERVER;

  constructor(file: string, log: Logger) {
    this.file = file;
    this.log = log;
  }

  /** `ok`, `failing` or `read-only`. */
  get state(): StoreState {
    return this.stateValue;
  }

  /** The last failure's error while not `ok`. */
  get lastError(): string | undefined {
    return this.lastErrorValue;
  }

  /** A commit of `rows` rows succeeded after `ms` ms in its transaction. */
  committed(rows: number, ms: number): void {
    this.observer.storeCommit(ms);
    if (this.failingSince !== undefined) {
      const downMs = Math.round(performance.now() - this.failingSince);
      this.log.info(
        { event: 'store-recovered', file: this.file, failures: this.failuresSince, downMs, rows },
        `store ${this.file} commits again after ${this.failuresSince} failed commit(s) over ${downMs} ms`,
      );
    }
    this.stateValue = 'ok';
    this.lastErrorValue = undefined;
    this.failingSince = undefined;
    this.failuresSince = 0;
  }

  /** A commit of `rows` rows failed for `reason` (the rows stay pending). */
  failed(reason: StoreFailureReason, error: string, rows: number): void {
    this.observer.storeFailure(reason);
    this.stateValue = reason === 'read_only' ? 'read-only' : 'failing';
    this.lastErrorValue = error;
    this.failingSince ??= performance.now();
    this.failuresSince++;
    const suppressed = this.failureLog.take();
    if (suppressed === undefined) return;
    this.log.error(
      { event: 'store-commit-failed', file: this.file, reason, rows, err: error, suppressed },
      `commit to ${this.file} failed (${reason}: ${error}); its rows stay queued and are retried; WHATSAT is answered from memory`,
    );
  }

  /** `rows` queued rows were dropped at the bound while commits failed. */
  dropped(rows: number, bound: number): void {
    this.observer.storeDropped(rows);
    const suppressed = this.overflowLog.take();
    if (suppressed === undefined) return;
    this.log.error(
      { event: 'store-overflow', file: this.file, dropped: rows, maxPendingRows: bound, suppressed },
      `${rows} rows waited for ${this.file} past ${bound}; dropped them from the queue (they are still in memory: the whole table is rewritten once a commit succeeds)`,
    );
  }
}
