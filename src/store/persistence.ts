/** Where stored records are made durable: the interface the server writes through (src/store/sqlite-log.ts implements it; src/store/sqlite-open.ts opens it). */
import type { StoreStatus } from '../core/status.js';
import type { AtRecord } from '../protocol/at-record.js';
import type { StoreObserver } from './store-health.js';
import type { MirroredTable } from './table-rewrite.js';

/** What a server gives its durable copy when it starts (see {@link LocationPersistence.attach}). */
export interface PersistenceAttachment {
  /** The in-memory table: written again whole when the file lost rows. */
  readonly table: MirroredTable;
  /** Where commits and their failures are counted. */
  readonly observer: StoreObserver;
}

/** A durable copy of the location table. */
export interface LocationPersistence {
  /** Queues a stored record for the next commit (a client updated again before it has two rows; the last is kept). */
  write(update: AtRecord): void;
  /**
   * Resolves when everything written so far is committed.
   *
   * @throws {StoreUnavailableError} (rejects, from src/errors.ts) if that commit fails.
   */
  whenCommitted(): Promise<void>;
  /** The store's health, queue and size (`/status`'s `store`). */
  status(): StoreStatus;
  /** Called once by the server that writes through it. */
  attach(server: PersistenceAttachment): void;
}
