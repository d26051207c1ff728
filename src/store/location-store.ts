/**
 * The location store: per client id, the newest location by client time and the AT line that
 * announced it (docs/protocol.md#iamat and #floods), with an incrementally maintained digest for
 * anti-entropy (docs/protocol.md#anti-entropy).
 *
 * What is held per client is the AT line alone, a binary string (src/protocol/bytes.ts), in a table
 * keyed by a slice of that line (./client-table.ts): the line carries the client id, the location
 * and the client's time verbatim, so nothing else needs storing, and two ids are one client exactly
 * when their bytes are equal. Times are compared on their decimal text, exactly, without a `bigint`
 * per record; the numbers are read only when someone asks ({@link LocationStore.get}). About 150
 * bytes a client on the heap for a 90-byte AT line (147 at a million clients; docs/benchmarks.md
 * "The location table grows without a pause (2026-12-04)").
 */
import { readAtRecord, timeStartOf, type AtRecord, type ParsedAtRecord } from '../protocol/at-record.js';
import { ClientTable } from './client-table.js';
import { hash32, hash64 } from './hash.js';

const ZERO = 0x30;
const POINT = 0x2e;

/**
 * Compares two POSIX times written in decimal (`\d+` with an optional `.` and up to nine digits, as
 * validated when the AT line was accepted), exactly: leading zeros and trailing fraction zeros do
 * not matter, as with the integer nanoseconds they stand for.
 *
 * @param a - text holding the first time from index `aFrom` to its end.
 * @param b - text holding the second time from index `bFrom` to its end.
 * @returns a negative number, 0 or a positive number as the first time is earlier, equal or later.
 */
export function compareTimeText(a: string, aFrom: number, b: string, bFrom: number): number {
  let ai = aFrom;
  let bi = bFrom;
  while (ai < a.length - 1 && a.charCodeAt(ai) === ZERO && a.charCodeAt(ai + 1) !== POINT) ai++;
  while (bi < b.length - 1 && b.charCodeAt(bi) === ZERO && b.charCodeAt(bi + 1) !== POINT) bi++;
  let aPoint = a.indexOf('.', ai);
  if (aPoint === -1) aPoint = a.length;
  let bPoint = b.indexOf('.', bi);
  if (bPoint === -1) bPoint = b.length;
  // Whole seconds: more digits is later; as many digits compare digit by digit.
  if (aPoint - ai !== bPoint - bi) return aPoint - ai - (bPoint - bi);
  for (; ai < aPoint; ai++, bi++) {
    const d = a.charCodeAt(ai) - b.charCodeAt(bi);
    if (d !== 0) return d;
  }
  // Fractions, a missing digit counting as 0.
  for (let i = 1; i <= 9; i++) {
    const da = aPoint + i < a.length ? a.charCodeAt(aPoint + i) : ZERO;
    const db = bPoint + i < b.length ? b.charCodeAt(bPoint + i) : ZERO;
    if (da !== db) return da - db;
  }
  return 0;
}

/**
 * The merge rule of the herd on AT lines: `candidate` replaces `current` when its client time (the
 * last field) is later, or when the times are equal and the candidate line's bytes sort after the
 * current one's. The tie break depends only on the two lines, so every server picks the same winner
 * whatever order the updates arrive in, and the herd converges (docs/protocol.md#floods). An
 * identical line is not newer, which is what ends a flood.
 *
 * @param candidate - an AT line, a binary string (so string order is byte order).
 */
export function isNewerLine(candidate: string, current: string | undefined): boolean {
  if (current === undefined) return true;
  // The commonest stale flood is the very line held, come again by a second path: one comparison.
  if (candidate === current) return false;
  const order = compareTimeText(candidate, timeStartOf(candidate), current, timeStartOf(current));
  return order !== 0 ? order > 0 : candidate > current;
}

/** log2 of the finest number of digest buckets. */
export const DIGEST_BUCKETS_LOG2 = 16;
/** The finest number of digest buckets (65,536); coarser digests fold these. */
export const MAX_DIGEST_BUCKETS = 1 << DIGEST_BUCKETS_LOG2;

/**
 * Below this many records a digest is summed from the records (two hashes each) instead of folded
 * from the {@link MAX_DIGEST_BUCKETS} finest sums: a fold is 65,536 steps however small the table, and
 * the first ones in a new process run before V8 has compiled the loop (about 10 ms each), which every
 * server start paid at its links' first anti-entropy offers. Warm, a fold takes about as long as
 * summing this many records (docs/benchmarks.md "The suite's CPU by file and process (2026-12-03)").
 */
export const DIGEST_FROM_RECORDS_BELOW = 256;

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

/** The digest bucket of `clientId` (a binary string) among `buckets` (a power of two). */
export function bucketOf(clientId: string, buckets: number): number {
  return hash32(clientId) & (MAX_DIGEST_BUCKETS - 1) & (buckets - 1);
}

/** The bucket count a table of `records` entries uses for its digest: about 8 records per bucket. */
export function digestBucketsFor(records: number): number {
  let buckets = 1;
  while (buckets < MAX_DIGEST_BUCKETS && buckets * 8 < records) buckets *= 2;
  return buckets;
}

/** An in-memory table of locations keyed by client id. */
export class LocationStore {
  /** Client id (a slice of its AT line) -> the AT line. */
  private readonly lines = new ClientTable();
  private readonly sumHigh = new Uint32Array(MAX_DIGEST_BUCKETS);
  private readonly sumLow = new Uint32Array(MAX_DIGEST_BUCKETS);
  private readonly scratch = new Uint32Array(2);
  private stores = 0;
  /**
   * The client id of the last {@link atLineOf} that found nothing, while the table has not changed
   * since ({@link missedAt} is {@link stores} then), with its slot hash and the free slot found: an
   * offer of that client knows it is new, and where it goes, without a second look-up. An incoming
   * link looks each flood's client up first (the held line of a stale flood,
   * src/protocol/at-record.ts `heldAtRecord`), so a new client's flood looked the table up twice,
   * and the first, in a table of many clients, was most of the cost (docs/benchmarks.md "Cost per
   * operation: a new client's flood looks the table up once (2026-12-03)").
   */
  private missedId: string | undefined;
  private missedAt = -1;
  private missedHash = 0;
  private missedFound = -1;

  /**
   * How many times the table changed (an offer stored) since it was created; it only grows.
   * Anti-entropy skips a periodic offer when this has not moved since the last exchange
   * (src/peers/anti-entropy.ts).
   */
  get changes(): number {
    return this.stores;
  }

  /** The stored AT line of `clientId`, if any (no parsing). */
  atLineOf(clientId: string): string | undefined {
    return this.lookUp(clientId);
  }

  /** The stored location of `clientId`, its numbers read, if any. */
  get(clientId: string): ParsedAtRecord | undefined {
    const atLine = this.lookUp(clientId);
    return atLine === undefined ? undefined : readAtRecord(atLine);
  }

  /**
   * The look-up of {@link atLineOf} and {@link get}, not overridden with them (a subclass's
   * `get` that calls its `atLineOf` would do its own work twice): a miss is remembered for the
   * next {@link offer}.
   */
  private lookUp(clientId: string): string | undefined {
    const lines = this.lines;
    const hash = lines.hashOf(clientId);
    const found = lines.find(clientId, hash);
    if (found >= 0) return lines.lineAt(found);
    this.missedId = clientId;
    this.missedAt = this.stores;
    this.missedHash = hash;
    this.missedFound = found;
    return undefined;
  }

  /**
   * Stores `record` if its AT line is newer (by {@link isNewerLine}) than what is held for its client.
   *
   * @param record - a valid AT record (checked by its codec, src/protocol/at-record.ts).
   * @returns true when stored (and so to be flooded on), false when it was stale or a duplicate.
   */
  offer(record: AtRecord): boolean {
    const { clientId, atLine } = record;
    const lines = this.lines;
    let hash: number;
    let found: number;
    // Every change of the table is a store here, which moves `stores`: an id missed since is still
    // missing, and its free slot still free.
    if (this.missedAt === this.stores && clientId === this.missedId) {
      hash = this.missedHash;
      found = this.missedFound;
    } else {
      hash = lines.hashOf(clientId);
      found = lines.find(clientId, hash);
    }
    const current = found >= 0 ? lines.lineAt(found) : undefined;
    if (!isNewerLine(atLine, current)) return false;
    const bucket = hash32(clientId) & (MAX_DIGEST_BUCKETS - 1);
    // Hashing also flattens a line built by concatenation, so the table holds one flat string.
    this.toggle(bucket, atLine);
    // The key is the record's own client id, a slice of its line (AtRecord.clientId), so it keeps
    // nothing else alive (not the line a client sent, nor, after an update, the replaced line).
    if (current !== undefined) {
      this.toggle(bucket, current);
      lines.replace(found, clientId, atLine);
    } else {
      lines.add(found, hash, clientId, atLine);
    }
    this.stores++;
    return true;
  }

  private toggle(bucket: number, atLine: string): void {
    hash64(atLine, this.scratch);
    this.sumHigh[bucket] = ((this.sumHigh[bucket] as number) ^ (this.scratch[0] as number)) >>> 0;
    this.sumLow[bucket] = ((this.sumLow[bucket] as number) ^ (this.scratch[1] as number)) >>> 0;
  }

  /**
   * While the table is still being filled from the durable store (./restoring-store.ts): a promise
   * that resolves once it is complete; `undefined` when it is (always, for this class). Anti-entropy
   * waits for it before it offers or compares a digest.
   */
  loading(): Promise<void> | undefined {
    return undefined;
  }

  /** Number of client ids held. */
  get size(): number {
    return this.lines.size;
  }

  /**
   * Every stored AT line (no parsing), in the order their client ids were first stored. Live: a
   * client stored meanwhile is yielded too, and an update of a client not yet reached yields its new
   * line.
   */
  atLines(): IterableIterator<string> {
    return this.lines.atLines();
  }

  /** Every stored location, its numbers read, in the order their client ids were first stored. */
  *values(): IterableIterator<ParsedAtRecord> {
    for (const atLine of this.lines.atLines()) yield readAtRecord(atLine);
  }

  /**
   * The table's digest at `buckets` buckets (a power of two, at most {@link MAX_DIGEST_BUCKETS}):
   * summed from the records themselves while the table holds fewer than {@link DIGEST_FROM_RECORDS_BELOW},
   * otherwise folded from the finest sums in O({@link MAX_DIGEST_BUCKETS}). Either way the same sums.
   */
  digest(buckets: number): Digest {
    const high = new Uint32Array(buckets);
    const low = new Uint32Array(buckets);
    const mask = buckets - 1;
    if (this.lines.size < DIGEST_FROM_RECORDS_BELOW) {
      for (const [clientId, atLine] of this.lines.entries()) {
        const j = hash32(clientId) & (MAX_DIGEST_BUCKETS - 1) & mask;
        hash64(atLine, this.scratch);
        high[j] = ((high[j] as number) ^ (this.scratch[0] as number)) >>> 0;
        low[j] = ((low[j] as number) ^ (this.scratch[1] as number)) >>> 0;
      }
      return { buckets, high, low };
    }
    for (let i = 0; i < MAX_DIGEST_BUCKETS; i++) {
      const j = i & mask;
      high[j] = ((high[j] as number) ^ (this.sumHigh[i] as number)) >>> 0;
      low[j] = ((low[j] as number) ^ (this.sumLow[i] as number)) >>> 0;
    }
    return { buckets, high, low };
  }

  /** The AT line of every client whose id falls in one of `wanted` (bucket numbers at `buckets` buckets). */
  atLinesInBuckets(buckets: number, wanted: ReadonlySet<number>): string[] {
    return [...this.scanBuckets(buckets, wanted)];
  }

  /**
   * {@link atLinesInBuckets}, one at a time, for a caller that sends them a slice per event-loop
   * turn. The scan is live ({@link atLines}): a client stored meanwhile may be yielded, which a
   * receiver that has it takes as stale.
   */
  *scanBuckets(buckets: number, wanted: ReadonlySet<number>): Generator<string, void, undefined> {
    if (wanted.size === 0) return;
    for (const [clientId, atLine] of this.lines.entries()) {
      if (wanted.has(bucketOf(clientId, buckets))) yield atLine;
    }
  }
}
