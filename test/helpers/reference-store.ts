/**
 * The location store as it was before it held AT lines only (issue "The hot path at the limit"): a
 * map of parsed records compared by `isNewer` on `bigint` nanoseconds, with the same digest. Kept as
 * the reference the optimised store (src/store/location-store.ts) is checked against.
 */
import { parseAt } from '../../src/protocol/commands.js';
import { hash32, hash64 } from '../../src/store/hash.js';
import {
  MAX_DIGEST_BUCKETS,
  isNewer,
  type Digest,
  type LocationRecord,
  type LocationUpdate,
} from '../../src/store/location-store.js';

export class ReferenceLocationStore {
  private readonly records = new Map<string, LocationRecord>();
  private readonly sumHigh = new Uint32Array(MAX_DIGEST_BUCKETS);
  private readonly sumLow = new Uint32Array(MAX_DIGEST_BUCKETS);
  private readonly scratch = new Uint32Array(2);

  offer(update: LocationUpdate): boolean {
    const message = parseAt(update.atLine);
    if (message === undefined) throw new TypeError(`not an AT line: ${update.atLine}`);
    const record: LocationRecord = {
      clientId: message.clientId,
      atLine: message.line,
      timeNs: message.timeNs,
      latitude: message.latitude,
      longitude: message.longitude,
    };
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

  values(): IterableIterator<LocationRecord> {
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
