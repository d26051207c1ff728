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
 * slot the look-up ended on. The ids and lines are two arrays indexed by entry, appended to: no entry
 * is ever removed (the protocol has no way to forget a client).
 *
 * The slot hash is seeded per table at random, so that nobody can choose client ids that all land on
 * one run of slots (a client's id is whatever it sends): the same reason V8 seeds its own string
 * hashes. The digest's bucket hash (./hash.ts `hash32`) is the same on every server by design, and
 * is not used here.
 */
import { randomInt } from 'node:crypto';

/** Slots of a new table (a power of two). */
export const CLIENT_TABLE_FIRST_SLOTS = 1024;

/**
 * Most entries a table holds per slot before its slots double: at 0.7 a look-up of an absent id
 * reads about six slots (48 bytes) on average, and the slots cost 11-23 bytes per client.
 */
export const CLIENT_TABLE_MAX_LOAD = 0.7;

/** Integers per slot: the id's hash, then its entry's number plus one (0: the slot is free). */
const SLOT_INTS = 2;

/** MurmurHash3's 32-bit finaliser: every bit of `h` moves about half of the result's bits. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** A table of AT lines keyed by client id; see the module's comment. */
export class ClientTable {
  private readonly ids: string[] = [];
  private readonly lines: string[] = [];
  private slots: Int32Array;
  private mask: number;
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
    return this.ids.length;
  }

  /** The slot hash of `clientId`: FNV-1a from the table's seed over its code units, then mixed. */
  hashOf(clientId: string): number {
    let h = this.seed;
    for (let i = 0; i < clientId.length; i++) {
      h ^= clientId.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return mix32(h);
  }

  /**
   * Looks `clientId` up.
   *
   * @param hash - its {@link hashOf}.
   * @returns its entry's number (0 or more), or, when it is not held, the bitwise NOT of the free slot
   *   where {@link add} puts it (a negative number), valid until the next {@link add}.
   */
  find(clientId: string, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot * SLOT_INTS + 1] as number;
      if (entry === 0) return ~slot;
      if (slots[slot * SLOT_INTS] === hash && this.ids[entry - 1] === clientId) return entry - 1;
    }
  }

  /** The AT line of entry `entry` (a number {@link find} returned). */
  lineAt(entry: number): string {
    return this.lines[entry] as string;
  }

  /**
   * Holds `atLine` for the client of entry `entry` from now on, keyed by `clientId` (equal to the
   * entry's id; pass the slice of `atLine`, so that the table keeps nothing of the line it replaces).
   */
  replace(entry: number, clientId: string, atLine: string): void {
    this.ids[entry] = clientId;
    this.lines[entry] = atLine;
  }

  /**
   * Adds a client that {@link find} did not find, as the last entry.
   *
   * @param found - what that {@link find} returned (the free slot, negated), with no add since.
   * @param hash - the id's {@link hashOf}.
   */
  add(found: number, hash: number, clientId: string, atLine: string): void {
    const slot = ~found;
    this.ids.push(clientId);
    this.lines.push(atLine);
    this.slots[slot * SLOT_INTS] = hash;
    this.slots[slot * SLOT_INTS + 1] = this.ids.length;
    if (this.ids.length > (this.mask + 1) * CLIENT_TABLE_MAX_LOAD) this.grow();
  }

  /** Doubles the slots and places every entry again, by the hashes the slots keep (no id is read). */
  private grow(): void {
    const old = this.slots;
    const count = (this.mask + 1) * 2;
    const mask = count - 1;
    const slots = new Int32Array(count * SLOT_INTS);
    for (let at = 0; at < old.length; at += SLOT_INTS) {
      const entry = old[at + 1] as number;
      if (entry === 0) continue;
      const hash = old[at] as number;
      let slot = hash & mask;
      while (slots[slot * SLOT_INTS + 1] !== 0) slot = (slot + 1) & mask;
      slots[slot * SLOT_INTS] = hash;
      slots[slot * SLOT_INTS + 1] = entry;
    }
    this.slots = slots;
    this.mask = mask;
  }

  /**
   * Every AT line, in the order the clients were first stored. Live: a client added meanwhile is
   * yielded too, and an entry replaced before it is reached yields its new line.
   */
  *atLines(): Generator<string, void, undefined> {
    for (let entry = 0; entry < this.lines.length; entry++) yield this.lines[entry] as string;
  }

  /** Every client id and AT line, as {@link atLines}. */
  *entries(): Generator<[clientId: string, atLine: string], void, undefined> {
    for (let entry = 0; entry < this.lines.length; entry++)
      yield [this.ids[entry] as string, this.lines[entry] as string];
  }
}
