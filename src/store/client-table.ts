/**
 * The location store's table (./location-store.ts): per client id, its AT line, both binary strings
 * (src/protocol/bytes.ts), in the order the clients were first stored.
 *
 * Why not a `Map`: a new client cost the store two look-ups of its `Map` (is it held? then the
 * insert), and in a table of hundreds of thousands each look-up walks a bucket's chain through
 * memory that is not in the cache, reading the header of every key on it. That was 11% of an
 * IAMAT-loaded server's thread (docs/benchmarks.md "What an IAMAT costs beyond the echo, part by part
 * (2026-12-04)"). Here the index is open addressing with linear probing over one `Int32Array`, a slot
 * being two integers, a hash of the client id and its entry's number, so a look-up reads a run of
 * neighbouring slots and compares ids only when the hashes are equal; the insert goes into the free
 * slot the look-up ended on. The ids and lines are indexed by entry and only appended to: no entry
 * is ever removed (the protocol has no way to forget a client).
 *
 * No add holds the event loop for long, however many clients are held (the 20 ms rule of
 * docs/operations.md). A table that grew in one step, a `Map` or this one's first version, did: at a
 * million clients a doubling of the slots took about 100 ms, and V8's copy of a full array of ids
 * about as long. So the slots double a few at a time ({@link CLIENT_TABLE_MOVES_PER_ADD} per add),
 * a look-up reading the old slots too until they are all moved, and the ids and lines are kept in
 * chunks of fixed size ({@link CLIENT_TABLE_CHUNK}), each made whole when the first entry needs it.
 *
 * The slot hash is seeded per table at random, so that nobody can choose client ids that all land on
 * one run of slots (a client's id is whatever it sends): the same reason V8 seeds its own string
 * hashes. The digest's bucket hash (./hash.ts `hash32`) is the same on every server by design, and
 * is not used here.
 */
import { randomInt } from 'node:crypto';
import { fnv1a, mix32 } from './hash.js';

/** Slots of a new table (a power of two). */
export const CLIENT_TABLE_FIRST_SLOTS = 1024;

/**
 * Most entries a table holds per slot before its slots double: at 0.7 a look-up of an absent id
 * reads about six slots (48 bytes) on average, and the slots cost 11-23 bytes per client.
 */
export const CLIENT_TABLE_MAX_LOAD = 0.7;

/**
 * Old slots moved into the doubled slots per {@link ClientTable.add} while they double. The slots
 * double when `CLIENT_TABLE_MAX_LOAD * n` of `n` slots are taken, and must be all moved before the
 * `2n` new slots are that full, `CLIENT_TABLE_MAX_LOAD * n` adds later: at least 1.43 moves per add.
 * At 4 a doubling ends `n / 4` adds after it began, and an add does at most 4 moves, whatever the
 * table's size (docs/benchmarks.md "The location table grows without a pause (2026-12-04)").
 */
export const CLIENT_TABLE_MOVES_PER_ADD = 4;

/**
 * Entries per chunk of the ids and lines (a power of two; 256 KiB a chunk). They are kept in chunks
 * of this many, not in arrays of every entry, because V8 grows an array by copying it into one 1.5
 * times its size: at a million clients one such copy held the event loop for over 100 ms.
 */
export const CLIENT_TABLE_CHUNK = 32_768;

const CHUNK_BITS = 31 - Math.clz32(CLIENT_TABLE_CHUNK);
const CHUNK_MASK = CLIENT_TABLE_CHUNK - 1;

/** A chunk of entries (ids and lines side by side), made whole at once, so that it is never copied to grow. */
function newChunk(): string[] {
  return new Array<string>(CLIENT_TABLE_CHUNK * 2).fill('');
}

/** Integers per slot: the id's hash, then its entry's number plus one (0: the slot is free). */
const SLOT_INTS = 2;

/** Puts `entry` (plus one) of `hash` into the first free slot of its probe run in `slots`. */
function place(slots: Int32Array, mask: number, hash: number, entryPlusOne: number): void {
  let slot = hash & mask;
  while (slots[slot * SLOT_INTS + 1] !== 0) slot = (slot + 1) & mask;
  slots[slot * SLOT_INTS] = hash;
  slots[slot * SLOT_INTS + 1] = entryPlusOne;
}

/** A table of AT lines keyed by client id; see the module's comment. */
export class ClientTable {
  /**
   * The ids and lines, in chunks of {@link CLIENT_TABLE_CHUNK} entries, each entry's id and line side
   * by side (a look-up that compares an id then reads its line reads one place in memory): entry `e`'s
   * id is `chunks[e >>> CHUNK_BITS][(e & CHUNK_MASK) * 2]`, and its line the next element.
   */
  private readonly chunks: string[][] = [newChunk()];
  private count = 0;
  private slots: Int32Array;
  private mask: number;
  /**
   * While the slots double: the slots before, still whole and read by look-ups, of which those
   * below {@link moved} have been placed in {@link slots} too. Undefined otherwise.
   */
  private old: Int32Array | undefined;
  private oldMask = 0;
  private moved = 0;
  private readonly seed: number;

  /**
   * @param options.seed - the slot hash's seed. @default a random 31-bit integer
   * @param options.firstSlots - slots at the start, a power of two. @default {@link CLIENT_TABLE_FIRST_SLOTS}
   * @throws RangeError when `firstSlots` is not a power of two of at least 2.
   */
  constructor(options: { readonly seed?: number; readonly firstSlots?: number } = {}) {
    const slots = options.firstSlots ?? CLIENT_TABLE_FIRST_SLOTS;
    if (!Number.isInteger(slots) || slots < 2 || (slots & (slots - 1)) !== 0)
      throw new RangeError(`firstSlots must be a power of two of at least 2, not ${slots}`);
    this.slots = new Int32Array(slots * SLOT_INTS);
    this.mask = slots - 1;
    this.seed = options.seed ?? randomInt(2 ** 31);
  }

  /** Clients held. */
  get size(): number {
    return this.count;
  }

  /** Old slots not yet moved into the doubled ones (0 when the slots are not doubling). */
  get movesLeft(): number {
    return this.old === undefined ? 0 : this.oldMask + 1 - this.moved;
  }

  /** The slot hash of `clientId`: FNV-1a from the table's seed over its code units, then mixed. */
  hashOf(clientId: string): number {
    return mix32(fnv1a(clientId, this.seed));
  }

  /**
   * Looks `clientId` up: in the slots, then, while they double, in the old slots (an entry moved is
   * in both, and found in the first).
   *
   * @param hash - its {@link hashOf}.
   * @returns its entry's number (0 or more), or, when it is not held, the bitwise NOT of the free slot
   *   where {@link add} puts it (a negative number), valid until the next {@link add}.
   */
  find(clientId: string, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let slot = hash & mask;
    for (; ; slot = (slot + 1) & mask) {
      const entry = slots[slot * SLOT_INTS + 1] as number;
      if (entry === 0) break;
      if (slots[slot * SLOT_INTS] === hash && this.idAt(entry - 1) === clientId) return entry - 1;
    }
    const old = this.old;
    if (old === undefined) return ~slot;
    const oldMask = this.oldMask;
    for (let at = hash & oldMask; ; at = (at + 1) & oldMask) {
      const entry = old[at * SLOT_INTS + 1] as number;
      if (entry === 0) return ~slot;
      if (old[at * SLOT_INTS] === hash && this.idAt(entry - 1) === clientId) return entry - 1;
    }
  }

  /** The AT line of entry `entry` (a number {@link find} returned). */
  lineAt(entry: number): string {
    return (this.chunks[entry >>> CHUNK_BITS] as string[])[(entry & CHUNK_MASK) * 2 + 1] as string;
  }

  private idAt(entry: number): string {
    return (this.chunks[entry >>> CHUNK_BITS] as string[])[(entry & CHUNK_MASK) * 2] as string;
  }

  /**
   * Holds `atLine` for the client of entry `entry` from now on, keyed by `clientId` (equal to the
   * entry's id; pass the slice of `atLine`, so that the table keeps nothing of the line it replaces).
   */
  replace(entry: number, clientId: string, atLine: string): void {
    const chunk = this.chunks[entry >>> CHUNK_BITS] as string[];
    const at = (entry & CHUNK_MASK) * 2;
    chunk[at] = clientId;
    chunk[at + 1] = atLine;
  }

  /**
   * Adds a client that {@link find} did not find, as the last entry. While the slots double, it also
   * moves up to {@link CLIENT_TABLE_MOVES_PER_ADD} old slots; past the load bound, it starts a doubling.
   *
   * @param found - what that {@link find} returned (the free slot, negated), with no add since.
   * @param hash - the id's {@link hashOf}.
   */
  add(found: number, hash: number, clientId: string, atLine: string): void {
    const entry = this.count;
    if (entry >>> CHUNK_BITS === this.chunks.length) this.chunks.push(newChunk());
    this.replace(entry, clientId, atLine);
    const slot = ~found;
    this.slots[slot * SLOT_INTS] = hash;
    this.slots[slot * SLOT_INTS + 1] = ++this.count;
    if (this.count > (this.mask + 1) * CLIENT_TABLE_MAX_LOAD) {
      // No doubling is under way here: the last one ended at most n / CLIENT_TABLE_MOVES_PER_ADD adds
      // after it began, before the slots could be this full (see there).
      this.old = this.slots;
      this.oldMask = this.mask;
      this.moved = 0;
      this.mask = (this.mask + 1) * 2 - 1;
      this.slots = new Int32Array((this.mask + 1) * SLOT_INTS);
    }
    // The add that began a doubling moves too: a table of 2 slots doubles when both are taken, and
    // its old slots, having no free one for a look-up to end on, must go at once.
    if (this.old !== undefined) this.move(CLIENT_TABLE_MOVES_PER_ADD);
  }

  /** Places up to `moves` more old slots' entries in the slots, by the hashes kept (no id is read). */
  private move(moves: number): void {
    const old = this.old as Int32Array;
    const end = Math.min(this.moved + moves, this.oldMask + 1);
    for (let at = this.moved; at < end; at++) {
      const entry = old[at * SLOT_INTS + 1] as number;
      if (entry !== 0) place(this.slots, this.mask, old[at * SLOT_INTS] as number, entry);
    }
    this.moved = end;
    if (end === this.oldMask + 1) this.old = undefined;
  }

  /**
   * Every AT line, in the order the clients were first stored. Live: a client added meanwhile is
   * yielded too, and an entry replaced before it is reached yields its new line.
   */
  *atLines(): Generator<string, void, undefined> {
    for (let entry = 0; entry < this.count; entry++) yield this.lineAt(entry);
  }

  /** Every client id and AT line, as {@link atLines}. */
  *entries(): Generator<[clientId: string, atLine: string], void, undefined> {
    for (let entry = 0; entry < this.count; entry++) yield [this.idAt(entry), this.lineAt(entry)];
  }
}
