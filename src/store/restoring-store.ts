/**
 * The in-memory table of a server with a durable store, filled from that store after the server
 * listens (docs/operations.md "Start-up"): the stored rows are read a page at a time, in slices of
 * at most {@link RESTORE_SLICE_MS}, and the event loop serves clients and links between slices. So
 * the size of the store delays neither accepting nor answering: a server holding a million clients
 * accepts as fast as an empty one.
 *
 * Until the last page is in, a client id the table does not hold yet is looked up in the store
 * first (one primary-key query, tens of microseconds), by every read and by every offer. So every
 * stored client is answered from the first accept, and an update (an IAMAT, a flood) is always
 * compared with the stored line, never with a gap: the merge rule decides as if the table were
 * complete. Anti-entropy waits until it is ({@link LocationStore.loading}): a digest of a half-read
 * table would ask the neighbours for what the store already holds.
 */
import type { Logger } from '../observability/logger.js';
import type { AtRecord, ParsedAtRecord } from '../protocol/at-record.js';
import { LocationStore } from './location-store.js';
import type { RowKey, StoredRows } from './sqlite-open.js';

/** Longest run of the restore before it yields to the event loop, ms. */
export const RESTORE_SLICE_MS = 5;
/** Rows read by one query of the restore (one page; a slice reads pages until its time is up). */
export const RESTORE_PAGE_ROWS = 512;

/** What a finished restore did, as {@link RestoringStore.restore} resolves it (and logs it). */
export interface RestoreSummary {
  /** Valid rows read (each offered to the table; fewer are held when updates arrived meanwhile). */
  readonly records: number;
  /** Rows whose AT line is not valid (skipped). */
  readonly unreadable: number;
  /** From {@link RestoringStore.restore} to the last page, ms. */
  readonly ms: number;
  /** Whether every page was read (false: the store failed, or the restore was stopped). */
  readonly complete: boolean;
}

/** Options of {@link RestoringStore.restore}. */
export interface RestoreOptions {
  readonly logger: Logger;
  /** @default {@link RESTORE_SLICE_MS} */
  readonly sliceMs?: number;
  /** @default {@link RESTORE_PAGE_ROWS} */
  readonly pageRows?: number;
}

/** A {@link LocationStore} that restores itself from the durable store while it is in use. */
export class RestoringStore extends LocationStore {
  private rows: StoredRows | undefined;
  private restoring: Promise<RestoreSummary> | undefined;
  private loaded: Promise<void> | undefined;
  private finish: (() => void) | undefined;

  /**
   * Starts reading `rows` into the table, a slice per event-loop turn, from the next turn on. Until
   * the returned promise resolves, reads and offers look a missing client id up in `rows` first.
   * Call once.
   *
   * @returns the summary, when every page is in (or the store failed: that is logged at error
   *   level, the table keeps what it read, and anti-entropy brings the rest from the neighbours; or
   *   {@link stop} was called). Never rejects.
   */
  restore(rows: StoredRows, options: RestoreOptions): Promise<RestoreSummary> {
    if (this.restoring !== undefined) return this.restoring;
    this.rows = rows;
    const { logger } = options;
    const sliceMs = options.sliceMs ?? RESTORE_SLICE_MS;
    const pageRows = options.pageRows ?? RESTORE_PAGE_ROWS;
    const started = performance.now();
    let records = 0;
    let unreadable = 0;
    let after: RowKey | undefined;
    this.restoring = new Promise<RestoreSummary>((resolve) => {
      const done = (complete: boolean): void => {
        this.rows = undefined;
        this.finish = undefined;
        const summary = { records, unreadable, ms: Math.round(performance.now() - started), complete };
        if (complete) {
          logger.info(
            { event: 'store-restored', ...summary },
            `store restored: ${records} locations in ${summary.ms} ms${unreadable > 0 ? ` (${unreadable} unreadable rows skipped)` : ''}`,
          );
        }
        resolve(summary);
      };
      this.finish = () => done(false);
      const slice = (): void => {
        if (this.rows !== rows) return;
        const sliceEnd = performance.now() + sliceMs;
        try {
          do {
            const page = rows.page(after, pageRows);
            for (const record of page.records) super.offer(record);
            records += page.records.length;
            unreadable += page.unreadable;
            after = page.next;
            if (after === undefined) {
              done(true);
              return;
            }
          } while (performance.now() < sliceEnd);
        } catch (error) {
          this.failed(logger, error, records);
          done(false);
          return;
        }
        setImmediate(slice);
      };
      setImmediate(slice);
    });
    this.loaded = this.restoring.then(() => undefined);
    return this.restoring;
  }

  /** Ends a restore in progress (before the durable store closes); the table keeps what it read. */
  stop(): void {
    this.finish?.();
  }

  override loading(): Promise<void> | undefined {
    return this.rows === undefined ? undefined : this.loaded;
  }

  override atLineOf(clientId: string): string | undefined {
    this.fetch(clientId);
    return super.atLineOf(clientId);
  }

  override get(clientId: string): ParsedAtRecord | undefined {
    this.fetch(clientId);
    return super.get(clientId);
  }

  override offer(record: AtRecord): boolean {
    this.fetch(record.clientId);
    return super.offer(record);
  }

  /** While restoring: brings `clientId`'s stored row into the table if the table does not hold it yet. */
  private fetch(clientId: string): void {
    const rows = this.rows;
    if (rows === undefined || super.atLineOf(clientId) !== undefined) return;
    try {
      const record = rows.one(clientId);
      if (record !== undefined) super.offer(record);
    } catch {
      // The next slice meets the same failure and reports it; until then the table answers alone.
    }
  }

  private failed(logger: Logger, error: unknown, records: number): void {
    logger.error(
      { event: 'store-restore-failed', records, err: (error as Error).message },
      `store could not be read past ${records} locations (${(error as Error).message}); serving what was read, neighbours' anti-entropy brings the rest`,
    );
  }
}
