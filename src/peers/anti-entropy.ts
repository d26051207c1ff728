/**
 * Anti-entropy: both sides of the digest exchange that reconciles two neighbours' tables
 * (docs/protocol.md "Anti-entropy", docs/operations.md "Guarantees"). The dialler of a link offers
 * its digest whenever the link comes up and then periodically; the neighbour compares it with its
 * own and asks for the buckets that differ; the dialler sends every record of those buckets as AT
 * lines, which the neighbour takes like any flood (newer wins). Each side works over a store and a
 * `send` function only, so it is tested without sockets. Message formats: ./anti-entropy-messages.ts.
 */
import type { Timers, TimerHandle } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';
import { digestBucketsFor, type LocationStore } from '../store/location-store.js';
import { formatDigestLines, formatWantLines, type SyncMessage } from './anti-entropy-messages.js';

/** A reconciliation not finished within this is abandoned (the next one starts afresh), ms. */
export const SYNC_TIMEOUT_MS = 60_000;
/** Each periodic run is jittered by up to this fraction of the interval either way. */
export const SYNC_JITTER = 0.2;
/**
 * Records of a reconciliation handed to the link per event-loop turn, at most; the next slice waits
 * until the link's backlog is below this too. A neighbour catching up on a million clients so never
 * holds the loop, nor the link's memory, for more than one slice.
 */
export const SYNC_SEND_SLICE = 4096;
/** How long the sending waits for the link's backlog to shrink before looking again, ms. */
export const SYNC_SEND_WAIT_MS = 5;

/** Options of {@link AntiEntropyDialler}. */
export interface AntiEntropyDiallerOptions {
  /** The neighbour, for logs. */
  readonly peerName: string;
  readonly store: LocationStore;
  /** Queues one line (without terminator, a binary string) on the outgoing link. */
  readonly send: (line: string) => void;
  /** Lines queued on the outgoing link and not yet written. @default always 0 */
  readonly backlog?: () => number;
  /** Lines the outgoing link dropped at its queue bound since start (a count that only grows). @default always 0 */
  readonly dropped?: () => number;
  readonly log: Logger;
  readonly timers: Timers;
  /** Mean interval between offers while the link is up, ms. */
  readonly intervalMs: number;
  /** Called when records were sent, with their number (metrics). */
  readonly onRecordsSent?: (records: number) => void;
  /** Source of uniform randoms in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
}

interface RunningOffer {
  readonly id: number;
  readonly buckets: number;
  readonly wanted: Set<number>;
  readonly startedMs: number;
  /** The store's {@link LocationStore.changes} and the link's dropped lines when the digest was taken. */
  readonly changes: number;
  readonly dropped: number;
}

/**
 * The dialler's side, one per outgoing link: offers the digest ({@link linkUp}, then every
 * `intervalMs` +-20% while up), collects the neighbour's WANTs, and answers WANT-END with the
 * records of the wanted buckets and `SYNCED`. A periodic offer is skipped when the table has not
 * changed since the digest of the last exchange that reached `SYNCED` on this connection and the
 * link has dropped no line since: the neighbour then holds everything the offer would find.
 */
export class AntiEntropyDialler {
  private readonly options: AntiEntropyDiallerOptions;
  private running: RunningOffer | undefined;
  private timer: TimerHandle | undefined;
  private sendTimer: TimerHandle | undefined;
  private up = false;
  private nextId = 1;
  /** Changes at every link-down, so a sending in progress stops. */
  private generation = 0;
  /** Records of a reconciliation are still being sent: no new offer until they are. */
  private sending = false;
  /** An offer waits for the table to be complete (store.loading()). */
  private waitingForTable = false;
  /** The table's changes and the link's drops at the digest of the last exchange sent to SYNCED (this connection). */
  private synced: { readonly changes: number; readonly dropped: number } | undefined;

  constructor(options: AntiEntropyDiallerOptions) {
    this.options = options;
  }

  /** The link came up: offer at once (any exchange of the previous connection is void), then periodically. */
  linkUp(): void {
    this.up = true;
    this.running = undefined;
    this.synced = undefined;
    this.offer();
  }

  /** The link went down: stop offering until it is up again. */
  linkDown(): void {
    this.up = false;
    this.running = undefined;
    this.synced = undefined;
    this.sending = false;
    this.generation++;
    this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.options.timers.clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
  }

  /**
   * Offers the digest now, unless the link is down or an offer made less than {@link SYNC_TIMEOUT_MS}
   * ago is still unanswered; then schedules the next.
   */
  offer(): void {
    if (!this.up) return;
    const { store, send, log, peerName, timers } = this.options;
    // A digest of a table still being restored would ask for what the durable store holds.
    const loading = store.loading();
    if (loading !== undefined) {
      if (!this.waitingForTable) {
        this.waitingForTable = true;
        void loading.then(() => {
          this.waitingForTable = false;
          this.offer();
        });
      }
      return;
    }
    const running = this.running;
    if (!this.sending && (running === undefined || timers.now() - running.startedMs >= SYNC_TIMEOUT_MS)) {
      const buckets = digestBucketsFor(store.size);
      const offer: RunningOffer = {
        id: this.nextId++,
        buckets,
        wanted: new Set(),
        startedMs: timers.now(),
        changes: store.changes,
        dropped: this.dropped(),
      };
      this.running = offer;
      for (const line of formatDigestLines(offer.id, store.digest(buckets))) send(line);
      log.info(
        { event: 'anti-entropy-offer', peer: peerName, syncId: offer.id, buckets, records: store.size },
        `anti-entropy: offered digest of ${buckets} buckets to ${peerName}`,
      );
    }
    this.schedule();
  }

  private schedule(): void {
    const { timers, intervalMs } = this.options;
    timers.clearTimeout(this.timer);
    const random = this.options.random ?? Math.random;
    const delay = intervalMs * (1 - SYNC_JITTER + 2 * SYNC_JITTER * random());
    this.timer = timers.setTimeout(() => {
      this.timer = undefined;
      if (this.unchangedSinceSynced()) this.schedule();
      else this.offer();
    }, delay);
  }

  /** Whether the neighbour already holds everything a new offer would find (see the class). */
  private unchangedSinceSynced(): boolean {
    const synced = this.synced;
    return (
      synced !== undefined &&
      this.running === undefined &&
      !this.sending &&
      this.options.store.changes === synced.changes &&
      this.dropped() === synced.dropped
    );
  }

  private dropped(): number {
    return this.options.dropped?.() ?? 0;
  }

  /** The neighbour's answer to an offer, on the outgoing link: its WANTs, then WANT-END. */
  onMessage(message: Extract<SyncMessage, { type: 'WANT' | 'WANT-END' }>): void {
    const running = this.running;
    if (running === undefined || message.syncId !== running.id) return;
    if (message.type === 'WANT') {
      for (const bucket of message.buckets) if (bucket < running.buckets) running.wanted.add(bucket);
    } else {
      this.running = undefined;
      this.sendWanted(running, this.options.store.scanBuckets(running.buckets, running.wanted));
    }
  }

  /**
   * Sends the records of the wanted buckets a slice at a time ({@link SYNC_SEND_SLICE}), each slice
   * once the link's backlog allows, then `SYNCED`; stops if the link goes down meanwhile.
   */
  private sendWanted(running: RunningOffer, lines: Iterator<string>): void {
    const { send, log, peerName, timers } = this.options;
    const backlog = this.options.backlog ?? (() => 0);
    const generation = this.generation;
    let sent = 0;
    this.sending = true;
    const next = (): void => {
      this.sendTimer = undefined;
      if (generation !== this.generation) return;
      if (backlog() >= SYNC_SEND_SLICE) {
        this.sendTimer = timers.setTimeout(next, SYNC_SEND_WAIT_MS);
        return;
      }
      for (let i = 0; i < SYNC_SEND_SLICE; i++) {
        const line = lines.next();
        if (line.done === true) {
          this.sending = false;
          send(`SYNCED ${running.id} ${sent}`);
          this.synced = { changes: running.changes, dropped: running.dropped };
          this.options.onRecordsSent?.(sent);
          log.info(
            {
              event: 'anti-entropy-send',
              peer: peerName,
              syncId: running.id,
              buckets: running.buckets,
              wantedBuckets: running.wanted.size,
              records: sent,
              ms: Math.round(timers.now() - running.startedMs),
            },
            `anti-entropy: ${peerName} wanted ${running.wanted.size} of ${running.buckets} buckets; sent ${sent} records`,
          );
          return;
        }
        send(line.value);
        sent++;
      }
      // A full slice went out: the rest waits for the next turn, after the I/O of this one.
      this.sendTimer = timers.setTimeout(next, 0);
    };
    next();
  }

  /** Stops for good (server shutdown). */
  close(): void {
    this.linkDown();
  }
}

/** Options of {@link AntiEntropyResponder}. */
export interface AntiEntropyResponderOptions {
  /** The neighbour, for logs. */
  readonly peerName: string;
  readonly store: LocationStore;
  /** Writes text (with terminators) back to the dialler on the incoming link. */
  readonly send: (text: string) => void;
  readonly log: Logger;
  readonly timers: Timers;
}

interface RunningCompare {
  readonly id: number;
  readonly buckets: number;
  readonly high: Uint32Array;
  readonly low: Uint32Array;
  readonly startedMs: number;
  stored: number;
}

/**
 * The neighbour's side, one per incoming link: collects an offered digest (SYNC, SUMS, SUMS-END),
 * answers with the buckets that differ from its own (WANT ..., WANT-END), and logs the outcome at
 * SYNCED. The records themselves arrive as AT lines, taken as floods by the incoming link, which
 * counts them here with {@link noteStored}.
 */
export class AntiEntropyResponder {
  private readonly options: AntiEntropyResponderOptions;
  private running: RunningCompare | undefined;

  constructor(options: AntiEntropyResponderOptions) {
    this.options = options;
  }

  /** Whether an exchange is under way (from its SYNC to its SYNCED): the AT lines arriving may be its records. */
  get exchanging(): boolean {
    return this.running !== undefined;
  }

  /** A flood on this link was newer than what was held (counted into the running exchange). */
  noteStored(): void {
    if (this.running !== undefined) this.running.stored++;
  }

  /** Handles one anti-entropy message from the dialler (SYNC, SUMS, SUMS-END, SYNCED). */
  onMessage(message: Extract<SyncMessage, { type: 'SYNC' | 'SUMS' | 'SUMS-END' | 'SYNCED' }>): void {
    const { store, send, log, peerName, timers } = this.options;
    if (message.type === 'SYNC') {
      this.running = {
        id: message.syncId,
        buckets: message.buckets,
        high: new Uint32Array(message.buckets),
        low: new Uint32Array(message.buckets),
        startedMs: timers.now(),
        stored: 0,
      };
      return;
    }
    const running = this.running;
    if (running === undefined || running.id !== message.syncId) return;
    if (message.type === 'SUMS') {
      for (let i = 0; i < message.high.length && message.start + i < running.buckets; i++) {
        running.high[message.start + i] = message.high[i] as number;
        running.low[message.start + i] = message.low[i] as number;
      }
    } else if (message.type === 'SUMS-END') {
      // Compared once the table is complete (store.loading()); the dialler waits up to SYNC_TIMEOUT_MS.
      const loading = store.loading();
      if (loading !== undefined) {
        void loading.then(() => this.onMessage(message));
        return;
      }
      const ours = store.digest(running.buckets);
      const wanted: number[] = [];
      for (let i = 0; i < running.buckets; i++) {
        const theirsEmpty = running.high[i] === 0 && running.low[i] === 0;
        if (!theirsEmpty && (running.high[i] !== ours.high[i] || running.low[i] !== ours.low[i])) wanted.push(i);
      }
      send(`${formatWantLines(running.id, wanted).join('\n')}\n`);
      log.info(
        {
          event: 'anti-entropy-want',
          peer: peerName,
          syncId: running.id,
          buckets: running.buckets,
          wantedBuckets: wanted.length,
        },
        `anti-entropy: asked ${peerName} for ${wanted.length} of ${running.buckets} buckets`,
      );
    } else {
      this.running = undefined;
      log.info(
        {
          event: 'anti-entropy-done',
          peer: peerName,
          syncId: running.id,
          received: message.records,
          stored: running.stored,
          ms: Math.round(timers.now() - running.startedMs),
        },
        `anti-entropy with ${peerName}: received ${message.records} records, ${running.stored} newer than ours`,
      );
    }
  }
}
