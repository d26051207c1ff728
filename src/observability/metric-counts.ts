/**
 * The plain numbers a {@link MetricsObserver} (./metrics.ts) counts into from its hooks, and that
 * its metric definitions (./metrics-clients.ts, ./metrics-links.ts, ./metrics-server.ts) read at
 * scrape time.
 */
import type { LinkState, ServerStatus } from '../core/status.js';
import { STORE_FAILURE_REASONS, type StoreFailureReason } from '../errors.js';
import { COMMAND_KINDS, COMMAND_OUTCOMES } from './command-series.js';
import { ACCEPT_FAILURE_REASONS, type AcceptFailureReason } from './observer.js';
import { LatencyCounts } from './latency-counts.js';

/** Counts kept per neighbour. */
export interface PeerCounts {
  floodSent: number;
  /** Bytes of the lines in {@link floodSent}, with their LFs. */
  floodSentBytes: number;
  floodStored: number;
  floodStale: number;
  antiEntropyExchanges: number;
  antiEntropyRecords: number;
  /** Last state the link reported (used until a status source is attached). */
  state: LinkState;
  /** Transitions into `up`. */
  ups: number;
}

/** Counts kept per places source and status. */
export interface PlacesCounts {
  readonly source: string;
  readonly status: string;
  count: number;
}

/** A `/status` snapshot shared by the collectors of one scrape, or `undefined` before a server is attached. */
export type StatusSnapshot = () => ServerStatus | undefined;

/** Everything one server's metrics count. */
export class ServerCounts {
  readonly boundsMs: Float64Array;
  /** Command counts, `[kind * outcomes + outcome]`. */
  readonly commands = new Float64Array(COMMAND_KINDS.length * COMMAND_OUTCOMES.length);
  readonly replyLatency: LatencyCounts[];
  readonly peers = new Map<string, PeerCounts>();
  readonly places = new Map<string, PlacesCounts>();
  readonly placesLatency = new Map<string, LatencyCounts>();
  readonly openConnections = { client: 0, peer: 0 };
  readonly openedConnections = { client: 0, peer: 0 };
  /** Refusals at accept, by {@link ACCEPT_FAILURE_REASONS} position. */
  readonly acceptFailures = new Float64Array(ACCEPT_FAILURE_REASONS.length);
  /** Successful commits of the durable store. */
  readonly storeCommits: LatencyCounts;
  /** Failed commits, by {@link STORE_FAILURE_REASONS} position. */
  readonly storeFailures = new Float64Array(STORE_FAILURE_REASONS.length);
  storeDroppedRows = 0;
  /** The start-up's longest event-loop block, ms, once measured. */
  startupDelayMs: number | undefined;

  /** @param boundsMs - upper bounds of the latency buckets, ms, ascending. */
  constructor(boundsMs: Float64Array) {
    this.boundsMs = boundsMs;
    this.replyLatency = COMMAND_KINDS.map(() => new LatencyCounts(boundsMs));
    this.storeCommits = new LatencyCounts(boundsMs);
  }

  /** The counts of neighbour `name`, created at 0 on first use. */
  peer(name: string): PeerCounts {
    let counts = this.peers.get(name);
    if (counts === undefined) {
      counts = {
        floodSent: 0,
        floodSentBytes: 0,
        floodStored: 0,
        floodStale: 0,
        antiEntropyExchanges: 0,
        antiEntropyRecords: 0,
        state: 'idle',
        ups: 0,
      };
      this.peers.set(name, counts);
    }
    return counts;
  }

  /** Every neighbour: those the server lists (so quiet ones show 0) and any a hook named. */
  peerNames(status: ServerStatus | undefined): string[] {
    const names = new Set<string>(status?.links.map((link) => link.peer));
    for (const name of this.peers.keys()) names.add(name);
    return [...names];
  }

  /** Counts one refusal at accept. */
  acceptFailure(reason: AcceptFailureReason): void {
    const i = ACCEPT_FAILURE_REASONS.indexOf(reason);
    this.acceptFailures[i] = (this.acceptFailures[i] as number) + 1;
  }

  /** Counts one failed commit. */
  storeFailure(reason: StoreFailureReason): void {
    const i = STORE_FAILURE_REASONS.indexOf(reason);
    this.storeFailures[i] = (this.storeFailures[i] as number) + 1;
  }
}
