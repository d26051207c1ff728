/**
 * The location store: per client id, the newest location by client time and the AT line that
 * announced it (PROTOCOL.md sections 2 and 3).
 */

/** One client's location as the herd stores and floods it. */
export interface LocationRecord {
  readonly clientId: string;
  /** The client's POSIX time of this location, in nanoseconds. */
  readonly timeNs: bigint;
  /** The AT line that announced it, as the receiving server wrote it, without terminator. */
  readonly atLine: string;
  /** Degrees north. */
  readonly latitude: number;
  /** Degrees east. */
  readonly longitude: number;
}

/**
 * The merge rule of the herd: `candidate` replaces `current` when its client time is later, or when
 * the times are equal and its AT line sorts after the current one (UTF-16 code-unit order). The tie
 * break depends only on the two records, so every server picks the same winner whatever order the
 * updates arrive in, and the herd converges (PROTOCOL.md section 3). An identical record is not newer,
 * which is what ends a flood.
 */
export function isNewer(candidate: LocationRecord, current: LocationRecord | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.timeNs !== current.timeNs) return candidate.timeNs > current.timeNs;
  return candidate.atLine > current.atLine;
}

/** An in-memory table of {@link LocationRecord}s keyed by client id. */
export class LocationStore {
  private readonly records = new Map<string, LocationRecord>();

  /** The stored record of `clientId`, if any. */
  get(clientId: string): LocationRecord | undefined {
    return this.records.get(clientId);
  }

  /**
   * Stores `record` if it is newer (by {@link isNewer}) than what is held for its client id.
   *
   * @returns true when stored (and so to be flooded on), false when it was stale or a duplicate.
   */
  offer(record: LocationRecord): boolean {
    if (!isNewer(record, this.records.get(record.clientId))) return false;
    this.records.set(record.clientId, record);
    return true;
  }

  /** Number of client ids held. */
  get size(): number {
    return this.records.size;
  }

  /** Every stored record, in insertion order of their client ids. */
  values(): IterableIterator<LocationRecord> {
    return this.records.values();
  }
}
