/**
 * Reads in slices: a socket with a backlog (a neighbour's catch-up or anti-entropy on a link, a client
 * pipelining thousands of lines) is read by libuv up to 32 times in one event-loop turn, 64 KiB each,
 * and every chunk is handled at once: 2 MiB of lines is a turn of several hundred ms in which nothing
 * else is answered. Here the big chunks of one turn share {@link READ_SLICE_MS}; once it is spent,
 * each reader pauses its stream after the chunk in hand, and the paused streams resume at the end of
 * the next turn (`setImmediate` twice), after its timers and the reads of every other socket, links
 * before clients: a backlog is then read about a chunk a turn, and the loop answers everything else
 * in between.
 *
 * The order rule: a line that reached this server on a link before a client's line reached it is
 * applied before that client line is answered (a client that checks in at a neighbour and at once
 * asks this server finds its flood here; test/integration/restart-flood.test.ts). So a link paused by
 * a spent slice is *behind* until it has caught up: resumed, and then read through one poll of the
 * event loop (libuv reads a socket until the kernel has no more) without being paused again. While
 * any link is behind, client connections hold their chunks ({@link ReadSlices.holdClient}: the chunk
 * is put back and the stream paused) and resume once every link has caught up, or once clients have
 * been held for {@link MAX_CLIENT_HOLD_MS} in that spell of links behind (an overload: then clients
 * are read beside the links, in slices, until they catch up). The bound counts from the first chunk
 * held, not from when the links fell behind: a restarted server's catch-up begins before its client
 * port opens, and its first clients are held as long as anyone's. Links are never held; a client's
 * wait is the time the links take to read what they had. Readers: src/server/line-connection.ts
 * (clients), src/peers/incoming-link.ts and src/peers/outgoing-link.ts (links).
 *
 * Chunks under {@link SLICED_CHUNK_BYTES} cost one comparison (and, on a client, one more while no
 * link is behind): libuv stops reading a socket at a read that does not fill its buffer, so only full
 * buffers can be a backlog.
 *
 * Counted (integers only, served by src/observability/metrics-registry.ts): streams paused by a spent
 * slice by kind, client chunks held, and spells of links behind in which the hold bound was reached.
 */
import { LOOP_BLOCK_MS } from '../observability/metrics-settings.js';
import { SYSTEM_TURN_CLOCK, type TurnClock } from './timers.js';

/** A chunk this long or longer is timed, bytes; a shorter one ends libuv's reads of its socket for the turn. */
export const SLICED_CHUNK_BYTES = 16 * 1024;

/** The time the big chunks of one event-loop turn may take before their streams wait for the next turn, ms. */
export const READ_SLICE_MS = LOOP_BLOCK_MS / 2;

/**
 * The longest that client connections wait for links to catch up, ms, counted from the first client
 * chunk held in a spell of links behind. Links still behind after that (a neighbour floods faster
 * than this server applies what it sends) do not stall clients: from then until every link has
 * caught up, client chunks are read beside the links' in slices as before, and the order rule gives
 * way to answering. One AT line flooded to this server is never that far behind a client's question
 * unless the server is overloaded.
 */
export const MAX_CLIENT_HOLD_MS = 1000;

/** A stream the slices pause and resume (a socket, or a fake in tests). */
export interface PausableStream {
  pause(): unknown;
  resume(): unknown;
}

/** A client's stream: a chunk it emitted can be put back ({@link ReadSlices.holdClient}). */
export interface HoldableStream extends PausableStream {
  unshift(chunk: Buffer): void;
}

/** What reads a link's bytes (src/peers/link-messages.ts `LinkReader`). */
export interface ChunkReader {
  push(chunk: Buffer, reused?: boolean): void;
}

/** The reads of one event loop (one per process: {@link READ_SLICES}; tests make their own). */
export class ReadSlices {
  private readonly clock: TurnClock;
  private turnStartMs = -1;
  private waitingLinks: (() => void)[] = [];
  private waitingClients: (() => void)[] = [];
  private linkPauseCount = 0;
  private clientPauseCount = 0;
  private heldCount = 0;
  private holdBoundCount = 0;
  /** Whether {@link holdBoundsReached} has counted the current spell of links behind. */
  private holdBoundCounted = false;
  /** Links paused by a spent slice and not caught up since, each with its pauses so far. */
  private readonly behind = new Map<PausableStream, number>();
  /** Since when a client chunk has been held in the current spell of links behind, ms (-1: none yet). */
  private holdSinceMs = -1;
  /** Resumes of the client streams held while a link is behind. */
  private held: (() => void)[] = [];

  /**
   * The longest that client connections wait for links to catch up, ms. Tests of a whole server in
   * one process set it on {@link READ_SLICES} (a bound far above a loaded machine's catch-up, or one
   * far below the backlog they send), so that which side of it a client falls on does not depend on
   * the machine's load.
   */
  maxClientHoldMs: number;

  /**
   * @param clock - what the slices are timed with. @default {@link SYSTEM_TURN_CLOCK}
   * @param maxClientHoldMs - see {@link maxClientHoldMs}. @default {@link MAX_CLIENT_HOLD_MS}
   */
  constructor(clock: TurnClock = SYSTEM_TURN_CLOCK, maxClientHoldMs: number = MAX_CLIENT_HOLD_MS) {
    this.clock = clock;
    this.maxClientHoldMs = maxClientHoldMs;
  }

  /** Streams paused by a spent slice since this was made, links and clients (for tests and the bench). */
  get pauses(): number {
    return this.linkPauseCount + this.clientPauseCount;
  }

  /** Links paused by a spent slice since this was made (`herd_read_slice_pauses_total{kind="peer"}`). */
  get linkPauses(): number {
    return this.linkPauseCount;
  }

  /** Client connections paused by a spent slice since this was made (`herd_read_slice_pauses_total{kind="client"}`). */
  get clientPauses(): number {
    return this.clientPauseCount;
  }

  /** Client chunks held because a link was behind, since this was made (`herd_read_held_chunks_total`). */
  get holds(): number {
    return this.heldCount;
  }

  /**
   * Spells of links behind in which {@link maxClientHoldMs} was reached and clients were then read
   * (a chunk not held, or the held resumed) while a link was still behind: the order rule gave way,
   * once per spell (`herd_read_hold_bound_reached_total`).
   */
  get holdBoundsReached(): number {
    return this.holdBoundCount;
  }

  /** Links paused by a spent slice that have not caught up yet. */
  get linksBehind(): number {
    return this.behind.size;
  }

  /**
   * Call before handling a chunk of `bytes` bytes.
   *
   * @returns whether the chunk is timed: then call {@link pauseIfSpent} (a client) or
   *   {@link pauseLinkIfSpent} (a link) once it is handled.
   */
  begin(bytes: number): boolean {
    if (bytes < SLICED_CHUNK_BYTES) return false;
    if (this.turnStartMs < 0) {
      this.turnStartMs = this.clock.now();
      this.clock.afterTurn(this.endTurn);
    }
    return true;
  }

  /**
   * Call after handling a timed chunk of a client connection: pauses it when the turn's slice is
   * spent, and resumes it once the turn is over (after the links) unless `mayResume` then says no (the
   * reader paused it for its own reasons meanwhile, or ended).
   */
  pauseIfSpent(stream: PausableStream, mayResume: () => boolean = () => true): void {
    if (!this.isSpent()) return;
    this.clientPauseCount++;
    this.waitingClients.push(() => mayResume() && stream.resume());
    stream.pause();
  }

  /**
   * Call after handling a timed chunk of a link: pauses it when the turn's slice is spent, and resumes
   * it once the turn is over, before the clients; from the pause until it has caught up the link is
   * behind, and clients hold their chunks ({@link holdClient}).
   */
  pauseLinkIfSpent(stream: PausableStream): void {
    if (!this.isSpent()) return;
    this.linkPauseCount++;
    if (this.behind.size === 0) {
      this.holdSinceMs = -1;
      this.holdBoundCounted = false;
    }
    this.behind.set(stream, (this.behind.get(stream) ?? 0) + 1);
    this.waitingLinks.push(() => this.resumeLink(stream));
    stream.pause();
  }

  /**
   * Hands a chunk of a link to `reader`, then pauses the link if the turn's slice is spent
   * ({@link pauseLinkIfSpent}).
   *
   * @param reused - the chunk's memory is overwritten after this call (an `onread` buffer). @default false
   */
  readLink(stream: PausableStream, reader: ChunkReader, chunk: Buffer, reused = false): void {
    const timed = this.begin(chunk.length);
    reader.push(chunk, reused);
    if (timed) this.pauseLinkIfSpent(stream);
  }

  /**
   * Call first with each chunk of a client connection. While a link is behind, the chunk is put back
   * (`unshift`, so the stream emits it again), the stream paused, and resumed once every link has
   * caught up unless `mayResume` then says no; for {@link maxClientHoldMs} at most.
   *
   * @returns true when the chunk is held: the caller handles nothing of it now.
   */
  holdClient(stream: HoldableStream, chunk: Buffer, mayResume: () => boolean = () => true): boolean {
    if (this.behind.size === 0) return false;
    if (this.holdSinceMs < 0) this.holdSinceMs = this.clock.now();
    if (this.holdSpent()) {
      this.countHoldBound();
      return false;
    }
    this.heldCount++;
    stream.pause();
    stream.unshift(chunk);
    this.held.push(() => mayResume() && stream.resume());
    return true;
  }

  /** Clients have been held for {@link maxClientHoldMs} or longer in this spell: they are held no more. */
  private holdSpent(): boolean {
    if (this.holdSinceMs < 0) return false;
    return this.clock.now() - this.holdSinceMs >= this.maxClientHoldMs;
  }

  /** Clients are read while a link is behind, past the bound: counted once per spell. */
  private countHoldBound(): void {
    if (this.holdBoundCounted) return;
    this.holdBoundCounted = true;
    this.holdBoundCount++;
  }

  private isSpent(): boolean {
    return this.turnStartMs >= 0 && this.clock.now() - this.turnStartMs >= READ_SLICE_MS;
  }

  /** Resumes a link; if the next poll reads it without pausing it again, it has caught up. */
  private resumeLink(stream: PausableStream): void {
    const pauses = this.behind.get(stream);
    stream.resume();
    this.clock.afterTurn(() => {
      if (this.behind.get(stream) === pauses) this.behind.delete(stream);
      this.releaseClients();
    });
  }

  /** Resumes the held clients once every link has caught up, or once they have waited long enough. */
  private releaseClients(): void {
    if (this.held.length === 0) return;
    if (this.behind.size > 0) {
      if (!this.holdSpent()) return;
      this.countHoldBound();
    }
    const held = this.held;
    this.held = [];
    for (const resume of held) resume();
  }

  private readonly endTurn = (): void => {
    this.turnStartMs = -1;
    if (this.waitingLinks.length === 0 && this.waitingClients.length === 0) return;
    const links = this.waitingLinks;
    const clients = this.waitingClients;
    this.waitingLinks = [];
    this.waitingClients = [];
    // At the end of the next turn: its timers and every other socket's reads come first; links first.
    this.clock.afterTurn(() => {
      for (const resume of links) resume();
      for (const resume of clients) resume();
    });
  };
}

/** The process's own loop. */
export const READ_SLICES = new ReadSlices();
