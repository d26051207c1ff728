/** Where stored records are made durable: the interface the server writes through (src/store/sqlite-log.ts implements it; src/store/sqlite-open.ts opens it). */
import type { AtRecord } from '../protocol/at-record.js';

/** A durable copy of the location table. */
export interface LocationPersistence {
  /** Buffers a stored record for the next commit (a newer one for the same client replaces it). */
  write(update: AtRecord): void;
  /** Resolves when everything written so far is committed; rejects if that commit fails. */
  whenCommitted(): Promise<void>;
}
