/**
 * Settings of the links between servers: reconnect backoff, handshake deadline, queue bound,
 * anti-entropy interval, the failure detector's heartbeat interval and dead line, and how updates
 * spread (flood or tree). The one home of their defaults: the config schema takes them from
 * {@link DEFAULT_LINK_SETTINGS}, and a server resolves a partial set once with
 * {@link resolveLinkSettings}. docs/operations.md documents each.
 */
import { withDefaults } from '../core/settings.js';
import { RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS } from './backoff.js';

/** Every way a server can spread what it stores (`peer.dissemination`). */
export const DISSEMINATIONS = ['flood', 'tree'] as const;

/** How a server spreads what it stores: over every link (`flood`), or over a tree per origin (`tree`, src/peers/plumtree.ts). */
export type Dissemination = (typeof DISSEMINATIONS)[number];

/** Settings of a server's links; each has a default in {@link DEFAULT_LINK_SETTINGS}. */
export interface LinkSettings {
  /** Delay before the first re-dial of a dropped link, ms (equal-jitter exponential backoff). @default 100 */
  readonly reconnectBaseDelayMs: number;
  /** Largest re-dial delay, ms. @default 2000 */
  readonly reconnectMaxDelayMs: number;
  /**
   * Longest wait for a dial's TCP connection, ms: a dial whose SYNs go unanswered (a cut or silent
   * network, a neighbour whose accept queue is full) is abandoned and made again after the backoff,
   * instead of waiting out the kernel's SYN retransmissions (1 s, 3 s, ...) and the handshake
   * deadline. So a link heals within about this plus `reconnectMaxDelayMs` of the network's return.
   * @default 1000
   */
  readonly connectTimeoutMs: number;
  /**
   * Longest wait for the handshake, ms: for the WELCOME after dialling, and on the peer port for the
   * HELLO (and AUTH) after accepting. @default 5000
   */
  readonly handshakeTimeoutMs: number;
  /**
   * Most updates held for a neighbour that is down or not reading. Past it the queue is dropped
   * whole and logged; anti-entropy at the next link-up repairs the loss. @default 100000
   */
  readonly maxQueuedUpdates: number;
  /** Mean interval of periodic anti-entropy per link, ms (each run is jittered by +-20%). @default 30000 */
  readonly antiEntropyIntervalMs: number;
  /**
   * Each side of a link connection writes a heartbeat line when it has written nothing for this
   * long, ms (src/peers/failure-detector.ts). @default 1000
   */
  readonly heartbeatIntervalMs: number;
  /**
   * A link connection that has received nothing (not even a heartbeat) for this long is declared
   * dead and closed, ms; the outgoing side re-dials with backoff. At least
   * {@link MIN_DEAD_AFTER_HEARTBEATS} times `heartbeatIntervalMs`. @default 5000
   */
  readonly deadAfterMs: number;
  /**
   * At start, the longest wait for the links to the neighbours before the client port opens, ms:
   * a server takes clients once every neighbour it could reach links to it both ways, so that it is
   * in the flood from its first client (a neighbour that refuses the dial is not waited for); 0 does
   * not wait. @default 500
   */
  readonly joinTimeoutMs: number;
  /**
   * How stored updates spread (docs/protocol.md#dissemination-flood-or-tree): `flood` sends each over
   * every link but the one it came on; `tree` pushes it along a spanning tree per origin and
   * announces it on the other links (src/peers/plumtree.ts). @default 'tree'
   */
  readonly dissemination: Dissemination;
}

/** The default of every {@link LinkSettings} field. */
export const DEFAULT_LINK_SETTINGS: Readonly<LinkSettings> = Object.freeze({
  reconnectBaseDelayMs: RECONNECT_BASE_DELAY_MS,
  reconnectMaxDelayMs: RECONNECT_MAX_DELAY_MS,
  connectTimeoutMs: 1000,
  handshakeTimeoutMs: 5000,
  maxQueuedUpdates: 100_000,
  antiEntropyIntervalMs: 30_000,
  // memberlist's LAN defaults probe every 1 s and declare a node dead after about 4-5 s.
  heartbeatIntervalMs: 1000,
  deadAfterMs: 5000,
  joinTimeoutMs: 500,
  // Measured by the bench's scale scenario: docs/protocol.md#dissemination-flood-or-tree says why.
  dissemination: 'tree',
});

/**
 * `deadAfterMs` must be at least this many heartbeat intervals: a healthy idle neighbour writes a
 * heartbeat on the first tick after an interval without writing, so it stays quiet for less than two
 * intervals (src/peers/failure-detector.ts), and the third is the margin for a neighbour (or this
 * server) whose event loop is busy. The default ratio is 5.
 */
export const MIN_DEAD_AFTER_HEARTBEATS = 3;

/**
 * What is wrong with a complete set of link settings, as `field: message`, or `undefined` when
 * nothing is: the one home of the rules between fields.
 */
export function linkSettingsProblem(settings: Readonly<LinkSettings>): string | undefined {
  const { heartbeatIntervalMs, deadAfterMs } = settings;
  if (deadAfterMs < MIN_DEAD_AFTER_HEARTBEATS * heartbeatIntervalMs) {
    return `deadAfterMs: ${deadAfterMs} must be at least ${MIN_DEAD_AFTER_HEARTBEATS} x heartbeatIntervalMs (${heartbeatIntervalMs})`;
  }
  return undefined;
}

/** Idle time after which TCP keep-alive probes a link, ms (a dead neighbour is noticed without traffic). */
export const LINK_KEEPALIVE_MS = 15_000;

/**
 * Size of the buffer a dialled plain-TCP link connection reads into, bytes: one per outgoing link,
 * reused for every read (`onread`), so a read allocates nothing. What arrives on a dialled connection
 * is small (WELCOME, heartbeats, WANTs, PRUNEs and GRAFTs); more than this is read in several reads.
 */
export const LINK_READ_BUFFER_BYTES = 16 * 1024;

/**
 * Fills what `overrides` leaves out from {@link DEFAULT_LINK_SETTINGS}; returns a frozen, complete set.
 *
 * @throws {RangeError} when the result breaks a rule of {@link linkSettingsProblem} (the config
 *   file reports the same rule as a `ConfigError` naming `peer.<field>`).
 */
export function resolveLinkSettings(overrides: Partial<LinkSettings> = {}): Readonly<LinkSettings> {
  const settings = withDefaults(DEFAULT_LINK_SETTINGS, overrides);
  const problem = linkSettingsProblem(settings);
  if (problem !== undefined) throw new RangeError(`link settings: ${problem}`);
  return settings;
}
