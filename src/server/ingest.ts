/**
 * The one way a location enters a server's table, whichever way it came: an IAMAT from a client, a
 * flood from a neighbour, or a record sent by anti-entropy (docs/protocol.md#floods).
 */
import type { AtRecord } from '../protocol/at-record.js';
import type { LocationPersistence } from '../store/persistence.js';
import type { LocationStore } from '../store/location-store.js';

/** What {@link ingest} updates. */
export interface IngestTargets {
  readonly store: LocationStore;
  /** @default none (memory only) */
  readonly persistence?: LocationPersistence;
  /** Sends a stored record on to every neighbour but `from`. */
  flood(record: AtRecord, from: string | undefined): void;
}

/**
 * Offers `record` to the store; when it is newer than what is held (the merge rule of
 * src/store/location-store.ts), persists it and floods it to every neighbour except the one it came
 * from. A server forwards only what it stored, so floods end by themselves.
 *
 * @param from - the neighbour it came from; `undefined` for a client's IAMAT.
 * @returns true when stored.
 */
export function ingest(targets: IngestTargets, record: AtRecord, from?: string): boolean {
  if (!targets.store.offer(record)) return false;
  targets.persistence?.write(record);
  targets.flood(record, from);
  return true;
}
