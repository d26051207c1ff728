/**
 * Settings of the links between servers: reconnect backoff, handshake deadline, queue bound and
 * anti-entropy interval. The one home of their defaults: the config schema takes them from
 * {@link DEFAULT_LINK_SETTINGS}, and a server resolves a partial set once with
 * {@link resolveLinkSettings}. docs/operations.md documents each.
 */
import { withDefaults } from '../core/settings.js';
import { RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS } from './backoff.js';

/** Settings of a server's links; each has a default in {@link DEFAULT_LINK_SETTINGS}. */
export interface LinkSettings {
  /** Delay before the first re-dial of a dropped link, ms (equal-jitter exponential backoff). @default 100 */
  readonly reconnectBaseDelayMs: number;
  /** Largest re-dial delay, ms. @default 2000 */
  readonly reconnectMaxDelayMs: number;
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
}

/** The default of every {@link LinkSettings} field. */
export const DEFAULT_LINK_SETTINGS: Readonly<LinkSettings> = Object.freeze({
  reconnectBaseDelayMs: RECONNECT_BASE_DELAY_MS,
  reconnectMaxDelayMs: RECONNECT_MAX_DELAY_MS,
  handshakeTimeoutMs: 5000,
  maxQueuedUpdates: 100_000,
  antiEntropyIntervalMs: 30_000,
});

/** Idle time after which TCP keep-alive probes a link, ms (a dead neighbour is noticed without traffic). */
export const LINK_KEEPALIVE_MS = 15_000;

/** Fills what `overrides` leaves out from {@link DEFAULT_LINK_SETTINGS}; returns a frozen, complete set. */
export function resolveLinkSettings(overrides: Partial<LinkSettings> = {}): Readonly<LinkSettings> {
  return withDefaults(DEFAULT_LINK_SETTINGS, overrides);
}
