/**
 * A binary heap of search entries, best first by the offline ranking: prominence descending, then
 * haversine ascending, then position in the file ascending. Entries live in parallel typed arrays
 * that grow by doubling and are reused from search to search, so a search allocates nothing.
 */

/** Entries a queue holds before it first grows. */
const INITIAL_CAPACITY = 1024;

/** Swaps elements `i` and `j` of `array`. */
function swapAt(array: Float64Array | Int32Array, i: number, j: number): void {
  const held = array[i] as number;
  array[i] = array[j] as number;
  array[j] = held;
}

/** A heap of `(prominence, haversine, position, node)` entries; `node` is -1 for a place. */
export class RankQueue {
  private prominence = new Float64Array(INITIAL_CAPACITY);
  private haversine = new Float64Array(INITIAL_CAPACITY);
  private position = new Float64Array(INITIAL_CAPACITY);
  private node = new Int32Array(INITIAL_CAPACITY);
  /** Entries in the queue. */
  size = 0;

  /** The best entry's fields, set by {@link pop}. */
  topProminence = 0;
  topHaversine = 0;
  topPosition = 0;
  topNode = -1;

  clear(): void {
    this.size = 0;
  }

  private better(i: number, j: number): boolean {
    const pi = this.prominence[i] as number;
    const pj = this.prominence[j] as number;
    if (pi !== pj) return pi > pj;
    const hi = this.haversine[i] as number;
    const hj = this.haversine[j] as number;
    if (hi !== hj) return hi < hj;
    return (this.position[i] as number) < (this.position[j] as number);
  }

  private swap(i: number, j: number): void {
    swapAt(this.prominence, i, j);
    swapAt(this.haversine, i, j);
    swapAt(this.position, i, j);
    swapAt(this.node, i, j);
  }

  private grow(): void {
    const capacity = this.prominence.length * 2;
    const grown = <T extends Float64Array | Int32Array>(old: T, make: new (n: number) => T): T => {
      const next = new make(capacity);
      next.set(old);
      return next;
    };
    this.prominence = grown(this.prominence, Float64Array);
    this.haversine = grown(this.haversine, Float64Array);
    this.position = grown(this.position, Float64Array);
    this.node = grown(this.node, Int32Array);
  }

  /** Adds an entry: a place (`node` -1) or a tree node with the best key any of its places can have. */
  push(prominence: number, haversine: number, position: number, node: number): void {
    if (this.size === this.prominence.length) this.grow();
    let i = this.size++;
    this.prominence[i] = prominence;
    this.haversine[i] = haversine;
    this.position[i] = position;
    this.node[i] = node;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the best entry into the `top*` fields. The queue must not be empty. */
  pop(): void {
    this.topProminence = this.prominence[0] as number;
    this.topHaversine = this.haversine[0] as number;
    this.topPosition = this.position[0] as number;
    this.topNode = this.node[0] as number;
    const last = --this.size;
    if (last === 0) return;
    this.prominence[0] = this.prominence[last] as number;
    this.haversine[0] = this.haversine[last] as number;
    this.position[0] = this.position[last] as number;
    this.node[0] = this.node[last] as number;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && this.better(right, left) ? right : left;
      if (!this.better(child, i)) break;
      this.swap(child, i);
      i = child;
    }
  }
}
