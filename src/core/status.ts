/**
 * What a server reports about itself (`/status`, `herd status`, metrics). These types sit below the
 * server, the links and observability, so none of those folders has to import another to share them.
 */

/**
 * The states of an outgoing link (src/peers/outgoing-link.ts):
 *
 *     idle --dial--> connecting --connected--> greeting --WELCOME--> up
 *       ^                |                        |                   |
 *       +--- backoff <---+------ error/close -----+-------------------+
 *
 * `closed` is final (the server is stopping).
 */
export type LinkState = (typeof LINK_STATES)[number];

/** Every {@link LinkState}, in the order metrics list them. */
export const LINK_STATES = ['idle', 'connecting', 'greeting', 'up', 'backoff', 'closed'] as const;

/** One neighbour as a server sees it: its outgoing link and whether the neighbour's link to us is up. */
export interface LinkStatusRow {
  /** The neighbour's name. */
  readonly peer: string;
  /** State of this server's outgoing link to it. */
  readonly status: LinkState;
  /** Updates queued on the outgoing link, not yet written. */
  readonly queued: number;
  /** Updates dropped at the queue bound since start (anti-entropy repairs them at reconnect). */
  readonly dropped: number;
  /** Times the outgoing link came up since start; more than 1 means it was re-established. */
  readonly connects: number;
  /** True while the neighbour's own (incoming) link to this server is authenticated and open. */
  readonly inbound: boolean;
  /**
   * Times since start that the failure detector closed the outgoing link: nothing, not even a
   * heartbeat, received for `peer.deadAfterMs` (src/peers/failure-detector.ts).
   */
  readonly timeouts: number;
  /** The same for the neighbour's links to this server, closed on this side. */
  readonly inboundTimeouts: number;
}

/**
 * The durable store's health: `ok` (the last commit succeeded, or none was needed), `failing` (the
 * last commit failed: full disk, missing file, corrupt page, lock, I/O), `read-only` (the last commit
 * failed because the file system or the file refuses writes), `memory` (no durable store: the table is
 * in memory only). docs/operations.md "When the store cannot write".
 */
export type StoreState = 'ok' | 'failing' | 'read-only' | 'memory';

/** The durable store as `/status` reports it. */
export interface StoreStatus {
  readonly state: StoreState;
  /** The last failed commit's error, while the state is not `ok`. */
  readonly lastError?: string;
  /** Rows written to the store and not yet committed (0 without a durable store). */
  readonly pendingRows: number;
  /** Size of the store on disk (the SQLite file and its write-ahead log), bytes; absent without one or while it is missing. */
  readonly bytes?: number;
}

/**
 * A server's running counts and its event loop's health, as `/status` serves them, so that
 * `herd status` and the dashboard's herd view need not read `/metrics` (docs/observability.md
 * "Endpoints"). Rates are the difference of two readings of the same incarnation over their interval.
 */
export interface ServerLoad {
  /** IAMATs answered since start, every outcome: what `herd_commands_total{command="IAMAT"}` sums to. */
  readonly iamat: number;
  /** Updates flooded to neighbours since start, every peer: what `herd_flood_sent_total` sums to. */
  readonly floods: number;
  /**
   * Event-loop delay p99 since the last `/metrics` scrape (or since the monitor woke), ms, with the
   * monitor's own sampling period taken off; 0 for a loop that had nothing to do.
   */
  readonly loopDelayP99Ms: number;
}

/** A snapshot of one server, as `/status` serves it. */
export interface ServerStatus {
  readonly name: string;
  /** Token that changes at every start (`<epoch>.<start ms>` with a durable store). */
  readonly incarnation: string;
  /** Milliseconds since the server started listening (0 before). */
  readonly uptimeMs: number;
  /** `host:port` of the client port (clients only), or `''` before listening. */
  readonly clientAddress: string;
  /** `host:port` of the peer port (links only), or `''` before listening. */
  readonly peerAddress: string;
  /** Client ids held in the location store. */
  readonly clients: number;
  /** Open connections: client sessions plus incoming links (and peer-port connections still greeting). */
  readonly connections: number;
  /** The places source (`offline`, `google`, `google-new`, or a test source). */
  readonly placesSource: string;
  /** One row per neighbour, in config link order. */
  readonly links: readonly LinkStatusRow[];
  /** The durable store's health. */
  readonly store: StoreStatus;
  /** Its counts and event-loop delay: in every `/status` answer (the admin server's metrics add it). */
  readonly load?: ServerLoad;
}

/** Whether a parsed `/status` answer has the shape of a {@link ServerStatus} (name, links, clients). */
export function isServerStatus(value: unknown): value is ServerStatus {
  const status = value as Partial<ServerStatus> | null;
  return (
    typeof status === 'object' &&
    status !== null &&
    typeof status.name === 'string' &&
    Array.isArray(status.links) &&
    typeof status.clients === 'number'
  );
}
