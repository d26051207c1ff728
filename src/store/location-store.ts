/**
 * The location store: per client id, the newest location by client time and the AT line that
 * announced it (docs/protocol.md "Client commands" and "Links"), with an incrementally maintained digest for
 * anti-entropy (docs/operations.md, "Anti-entropy").
 */
import { hash32, hash64 } from './hash.js';

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
 * updates arrive in, and the herd converges (docs/protocol.md "Floods"). An identical record is not newer,
 * which is what ends a flood.
 */
export function isNewer(candidate: LocationRecord, current: LocationRecord | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.timeNs !== current.timeNs) return candidate.timeNs > current.timeNs;
  return candidate.atLine > current.atLine;
}

/** log2 of the finest number of digest buckets. */
export const DIGEST_BUCKETS_LOG2 = 16;
/** The finest number of digest buckets (65,536); coarser digests fold these. */
export const MAX_DIGEST_BUCKETS = 1 << DIGEST_BUCKETS_LOG2;

/**
 * A digest of a table: per bucket of client ids, the XOR of the 64-bit hashes of the AT lines
 * stored for them. Two tables hold the same records in a bucket exactly when (with probability
 * 1 - 2^-64 per bucket) the bucket sums are equal.
 */
export interface Digest {
  /** Number of buckets, a power of two from 1 to {@link MAX_DIGEST_BUCKETS}. */
  readonly buckets: number;
  /** High 32 bits of each bucket's sum. */
  readonly high: Uint32Array;
  /** Low 32 bits of each bucket's sum. */
  readonly low: Uint32Array;
}

/** The digest bucket of `clientId` among `buckets` (a power of two). */
export function bucketOf(clientId: string, buckets: number): number {
  return hash32(clientId) & (MAX_DIGEST_BUCKETS - 1) & (buckets - 1);
}

/** The bucket count a table of `records` entries uses for its digest: about 8 records per bucket. */
export function digestBucketsFor(records: number): number {
  let buckets = 1;
  while (buckets < MAX_DIGEST_BUCKETS && buckets * 8 < records) buckets *= 2;
  return buckets;
}

/** An in-memory table of {@link LocationRecord}s keyed by client id. */
export class LocationStore {
  private readonly records = new Map<string, LocationRecord>();
  private readonly sumHigh = new Uint32Array(MAX_DIGEST_BUCKETS);
  private readonly sumLow = new Uint32Array(MAX_DIGEST_BUCKETS);
  private readonly scratch = new Uint32Array(2);

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
    const current = this.records.get(record.clientId);
    if (!isNewer(record, current)) return false;
    const bucket = hash32(record.clientId) & (MAX_DIGEST_BUCKETS - 1);
    if (current !== undefined) this.toggle(bucket, current.atLine);
    this.toggle(bucket, record.atLine);
    this.records.set(record.clientId, record);
    return true;
  }

  private toggle(bucket: number, atLine: string): void {
    hash64(atLine, this.scratch);
    this.sumHigh[bucket] = ((this.sumHigh[bucket] as number) ^ (this.scratch[0] as number)) >>> 0;
    this.sumLow[bucket] = ((this.sumLow[bucket] as number) ^ (this.scratch[1] as number)) >>> 0;
  }

  /** Number of client ids held. */
  get size(): number {
    return this.records.size;
  }

  /** Every stored record, in insertion order of their client ids. */
  values(): IterableIterator<LocationRecord> {
    return this.records.values();
  }

  /**
   * The table's digest at `buckets` buckets (a power of two, at most {@link MAX_DIGEST_BUCKETS}),
   * folded from the finest sums in O({@link MAX_DIGEST_BUCKETS}).
   */
  digest(buckets: number): Digest {
    const high = new Uint32Array(buckets);
    const low = new Uint32Array(buckets);
    const mask = buckets - 1;
    for (let i = 0; i < MAX_DIGEST_BUCKETS; i++) {
      const j = i & mask;
      high[j] = ((high[j] as number) ^ (this.sumHigh[i] as number)) >>> 0;
      low[j] = ((low[j] as number) ^ (this.sumLow[i] as number)) >>> 0;
    }
    return { buckets, high, low };
  }

  /** Every record whose client id falls in one of `wanted` (bucket numbers at `buckets` buckets). */
  recordsInBuckets(buckets: number, wanted: ReadonlySet<number>): LocationRecord[] {
    const out: LocationRecord[] = [];
    if (wanted.size === 0) return out;
    for (const record of this.records.values()) {
      if (wanted.has(bucketOf(record.clientId, buckets))) out.push(record);
    }
    return out;
  }
}
