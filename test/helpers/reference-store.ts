/**
 * The location store stated plainly: a map of records with their times read into `bigint`
 * nanoseconds, compared by {@link isNewer}, with the same digest, summed from the records at each
 * call. The reference the store (src/store/location-store.ts), which compares times on their
 * decimal text and keeps running sums, is checked against.
 */
import { checkAtLine, readAtRecord, type AtRecord, type ParsedAtRecord } from '../../src/protocol/at-record.js';
import { hash32, hash64 } from '../../src/store/hash.js';
import { MAX_DIGEST_BUCKETS, type Digest } from '../../src/store/location-store.js';

/**
 * The merge rule of the herd (docs/protocol.md#floods), stated on parsed records: a later client
 * time wins; equal times go to the AT line whose bytes sort last.
 */
export function isNewer(candidate: ParsedAtRecord, current: ParsedAtRecord | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.timeNs !== current.timeNs) return candidate.timeNs > current.timeNs;
  return candidate.atLine > current.atLine;
}

export class ReferenceLocationStore {
  private readonly records = new Map<string, ParsedAtRecord>();

  offer(update: AtRecord): boolean {
    const checked = checkAtLine(update.atLine);
    if (checked === undefined) throw new TypeError(`not an AT line: ${update.atLine}`);
    const record = readAtRecord(checked.atLine);
    if (!isNewer(record, this.records.get(record.clientId))) return false;
    this.records.set(record.clientId, record);
    return true;
  }

  get size(): number {
    return this.records.size;
  }

  values(): IterableIterator<ParsedAtRecord> {
    return this.records.values();
  }

  bucketOf(clientId: string, buckets: number): number {
    return hash32(clientId) & (MAX_DIGEST_BUCKETS - 1) & (buckets - 1);
  }

  /** Summed from the records held, at each call: the store keeps running sums instead. */
  digest(buckets: number): Digest {
    const high = new Uint32Array(buckets);
    const low = new Uint32Array(buckets);
    const hash = new Uint32Array(2);
    for (const record of this.records.values()) {
      const bucket = this.bucketOf(record.clientId, buckets);
      hash64(record.atLine, hash);
      high[bucket] = ((high[bucket] as number) ^ (hash[0] as number)) >>> 0;
      low[bucket] = ((low[bucket] as number) ^ (hash[1] as number)) >>> 0;
    }
    return { buckets, high, low };
  }
}
