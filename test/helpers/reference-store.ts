/**
 * The location store stated plainly: a map of records with their times read into `bigint`
 * nanoseconds, compared by {@link isNewer}, with the same digest. The reference the store
 * (src/store/location-store.ts), which compares times on their decimal text, is checked against.
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
  private readonly sumHigh = new Uint32Array(MAX_DIGEST_BUCKETS);
  private readonly sumLow = new Uint32Array(MAX_DIGEST_BUCKETS);
  private readonly scratch = new Uint32Array(2);

  offer(update: AtRecord): boolean {
    const checked = checkAtLine(update.atLine);
    if (checked === undefined) throw new TypeError(`not an AT line: ${update.atLine}`);
    const record = readAtRecord(checked.atLine);
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

  get size(): number {
    return this.records.size;
  }

  values(): IterableIterator<ParsedAtRecord> {
    return this.records.values();
  }

  bucketOf(clientId: string, buckets: number): number {
    return hash32(clientId) & (MAX_DIGEST_BUCKETS - 1) & (buckets - 1);
  }

  digest(buckets: number): Digest {
    const high = new Uint32Array(buckets);
    const low = new Uint32Array(buckets);
    for (let i = 0; i < MAX_DIGEST_BUCKETS; i++) {
      high[i & (buckets - 1)] = ((high[i & (buckets - 1)] as number) ^ (this.sumHigh[i] as number)) >>> 0;
      low[i & (buckets - 1)] = ((low[i & (buckets - 1)] as number) ^ (this.sumLow[i] as number)) >>> 0;
    }
    return { buckets, high, low };
  }
}
