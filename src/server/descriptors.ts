/**
 * The file descriptors a server may still open (docs/operations.md "When descriptors run out"): the
 * process's soft `RLIMIT_NOFILE` and how many are open, read from `/proc` (Linux) about once a second
 * and kept current between two readings by the connections the server opens and closes. The client
 * port leaves the last {@link DESCRIPTOR_RESERVE} to the links (a re-dial, a neighbour's connection
 * on the peer port), the store's files and the admin port, so that clients never starve them.
 *
 * Why not leave it to Node: at `EMFILE` libuv closes its spare descriptor, accepts every waiting
 * connection and closes it at once, and tells nobody (no callback, no `error` event), so nothing is
 * counted or logged, and a link that re-dials at that moment fails too.
 */
import { readdir, readFile } from 'node:fs/promises';

/**
 * Descriptors the client port never takes: kept for links, the store and the admin port (a quarter of
 * the limit where that is less).
 */
export const DESCRIPTOR_RESERVE = 64;

/** How often the open descriptors are counted again, ms. */
export const DESCRIPTOR_SAMPLE_MS = 1000;

/** This process's soft limit on open files, from `/proc/self/limits`; `undefined` where there is none (not Linux). */
export async function readDescriptorLimit(): Promise<number | undefined> {
  try {
    const limits = await readFile('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits)?.[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/**
 * How many descriptors this process has open, from `/proc/self/fd` (not counting the one reading
 * it); `undefined` where there is no such folder.
 *
 * @throws the `EMFILE` of reading it when not even one more descriptor is free.
 */
export async function countOpenDescriptors(): Promise<number | undefined> {
  try {
    return (await readdir('/proc/self/fd')).length - 1;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') throw error;
    return undefined;
  }
}

/** Where the counts come from (the functions above, or a test's). */
export interface DescriptorSource {
  readLimit(): Promise<number | undefined>;
  countOpen(): Promise<number | undefined>;
}

const PROC: DescriptorSource = { readLimit: readDescriptorLimit, countOpen: countOpenDescriptors };

/** Tracks the descriptors left and decides whether a client connection may have one. */
export class DescriptorBudget {
  private readonly reserve: number;
  private readonly connections: () => number;
  private readonly source: DescriptorSource;
  private limit: number | undefined;
  /** Open descriptors at the last reading, and the server's connections then. */
  private sampledOpen = 0;
  private sampledConnections = 0;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  /**
   * @param connections - the connections the server holds now (each one descriptor).
   * @param reserve - descriptors the client port leaves free. @default {@link DESCRIPTOR_RESERVE}
   */
  constructor(connections: () => number, reserve = DESCRIPTOR_RESERVE, source: DescriptorSource = PROC) {
    this.connections = connections;
    this.reserve = reserve;
    this.source = source;
  }

  /** Starts reading the counts (now, and every {@link DESCRIPTOR_SAMPLE_MS}). */
  async start(): Promise<void> {
    await this.sample();
    this.timer ??= setInterval(() => void this.sample(), DESCRIPTOR_SAMPLE_MS).unref();
  }

  /** Stops reading. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The soft limit, when known. */
  get descriptorLimit(): number | undefined {
    return this.limit;
  }

  /** Descriptors the client port may still take (infinite where the limit is unknown). */
  clientRoom(): number {
    if (this.limit === undefined) return Number.POSITIVE_INFINITY;
    const open = this.sampledOpen + (this.connections() - this.sampledConnections);
    return this.limit - this.reserveOf(this.limit) - open;
  }

  /** The descriptors kept back under `limit`. */
  reserveOf(limit: number): number {
    return Math.min(this.reserve, Math.floor(limit / 4));
  }

  private async sample(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const connections = this.connections();
      this.limit = await this.source.readLimit();
      const open = await this.source.countOpen();
      if (open === undefined) {
        this.limit = undefined;
        return;
      }
      this.sampledOpen = open;
      this.sampledConnections = connections;
    } catch {
      // Not even one descriptor to read the count with: the client port has no room.
      if (this.limit !== undefined) {
        this.sampledOpen = this.limit;
        this.sampledConnections = this.connections();
      }
    } finally {
      this.reading = false;
    }
  }
}
