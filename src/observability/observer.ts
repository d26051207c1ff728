/**
 * What a server reports about itself, for metrics. The server calls these hooks; the Prometheus
 * implementation lives beside this file, and the default does nothing, so the server needs no
 * metrics library to run.
 */
import type { LinkState } from '../core/status.js';
import type { StoreFailureReason } from '../errors.js';
import type { CommandKind, CommandOutcome } from '../server/commands/outcomes.js';
import type { AtRecord } from '../protocol/at-record.js';

/**
 * Why a connection was closed at accept, or not accepted: `descriptors` (the client port keeps the
 * last `DESCRIPTOR_RESERVE` file descriptors for links and the store), `max_connections` and
 * `max_connections_per_address` (`limits.*`), `accept_error` (the listener failed to accept: e.g.
 * `EMFILE` when even libuv's spare descriptor was gone).
 */
export type AcceptFailureReason = 'descriptors' | 'max_connections' | 'max_connections_per_address' | 'accept_error';

/** Every {@link AcceptFailureReason}, in the order metrics list them. */
export const ACCEPT_FAILURE_REASONS: readonly AcceptFailureReason[] = [
  'descriptors',
  'max_connections',
  'max_connections_per_address',
  'accept_error',
];

/** Hooks a server calls as it works. Every method must be cheap and must not throw. */
export interface ServerObserver {
  /** A client command was answered; `latencyMs` from receipt of its line to its reply being ready. */
  command(kind: CommandKind, outcome: CommandOutcome, latencyMs: number): void;
  /**
   * Floods: `count` updates `sent` to, or received from `peer` and `stored` or ignored as `stale`.
   * For `sent`, `bytes` is their size on the wire with LFs. @default 0
   */
  flood(event: 'sent' | 'stored' | 'stale', peer: string, count: number, bytes?: number): void;
  /** The outgoing link to `peer` changed state. */
  linkStatus(peer: string, status: LinkState): void;
  /** A places look-up finished with this legacy `status` (`OK`, `ZERO_RESULTS`, `UNKNOWN_ERROR`, ...). */
  placesLookup(source: string, status: string, latencyMs: number): void;
  /** A connection opened or closed. */
  connection(kind: 'client' | 'peer', event: 'open' | 'close'): void;
  /** An anti-entropy exchange sent `records` records to `peer`. */
  antiEntropy(peer: string, records: number): void;
  /**
   * An update was stored: newer than what the table held for its client id. Called once per stored
   * update (an IAMAT, a flood or an anti-entropy record), on the ingest path, after the store and
   * the flood: an implementation must only note it (the dashboard buffers it and does its work on a
   * timer, src/dashboard/feed.ts).
   *
   * @param from - the neighbour it came from; `undefined` for a client's IAMAT.
   */
  stored(record: AtRecord, from: string | undefined): void;
  /** A durable store's commit succeeded after `latencyMs` in its transaction. */
  storeCommit(latencyMs: number): void;
  /** A durable store's commit failed (its rows stay queued). */
  storeFailure(reason: StoreFailureReason): void;
  /** `rows` rows queued for the durable store were dropped at its bound (rewritten from memory later). */
  storeDropped(rows: number): void;
  /** A connection was refused or closed at accept on `port`. */
  acceptFailure(port: 'client' | 'peer', reason: AcceptFailureReason): void;
}

/** An observer that ignores everything (the default). */
export const NOOP_OBSERVER: ServerObserver = {
  command: () => undefined,
  flood: () => undefined,
  linkStatus: () => undefined,
  placesLookup: () => undefined,
  connection: () => undefined,
  antiEntropy: () => undefined,
  stored: () => undefined,
  storeCommit: () => undefined,
  storeFailure: () => undefined,
  storeDropped: () => undefined,
  acceptFailure: () => undefined,
};

/**
 * One observer that calls `base` and then each of `extras` for every hook. A hook that only one of
 * them implements is that one's own method, bound, so a hook nobody else wants (a command, for
 * the metrics) costs no more than before.
 */
export function composeObservers(base: ServerObserver, ...extras: Partial<ServerObserver>[]): ServerObserver {
  const hooks = Object.keys(NOOP_OBSERVER) as (keyof ServerObserver)[];
  const composed: Record<string, unknown> = {};
  for (const hook of hooks) {
    const all = [base, ...extras]
      .filter((observer) => typeof observer[hook] === 'function')
      .map((observer) => (observer[hook] as (...args: unknown[]) => void).bind(observer));
    composed[hook] =
      all.length === 1
        ? all[0]
        : (...args: unknown[]): void => {
            for (const call of all) call(...args);
          };
  }
  return composed as unknown as ServerObserver;
}

/**
 * The hooks of a part that is loaded after the server starts (the dashboard, src/cli/serve.ts): they
 * call {@link target} once it is set, and do nothing before.
 */
export class LateHooks implements Pick<ServerObserver, 'stored' | 'linkStatus'> {
  target: Pick<ServerObserver, 'stored' | 'linkStatus'> | undefined;

  stored(update: AtRecord, from: string | undefined): void {
    this.target?.stored(update, from);
  }

  linkStatus(peer: string, status: LinkState): void {
    this.target?.linkStatus(peer, status);
  }
}
