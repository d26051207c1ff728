/**
 * What the link tests share: two identities without a secret, a dialling link to "Friend" and an
 * accepted one, with hand-moved timers.
 */
import type { Duplex } from 'node:stream';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { exponentialBackoff } from '../../src/peers/backoff.js';
import type { LinkIdentity } from '../../src/peers/handshake.js';
import { IncomingLink, type IncomingLinkOptions } from '../../src/peers/incoming-link.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { OutgoingLink, type OutgoingLinkOptions } from '../../src/peers/outgoing-link.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/protocol/line-splitter.js';
import { LocationStore } from '../../src/store/location-store.js';
import { capturingLogger } from './capture-log.js';
import type { ManualTimers } from './manual-timers.js';

export const SOLO: LinkIdentity = { name: 'Solo', incarnation: 'solo-1', secret: undefined };
export const FRIEND: LinkIdentity = { name: 'Friend', incarnation: 'friend-1', secret: undefined };

/**
 * Solo's outgoing link to Friend with the default link settings, a fixed 100 ms backoff and a
 * capturing logger; `options` overrides any of them. `statuses` lists every state it entered.
 */
export function dialler(timers: ManualTimers, options: Partial<OutgoingLinkOptions> = {}) {
  const log = capturingLogger();
  const statuses: string[] = [];
  const link = new OutgoingLink({
    self: SOLO,
    peerName: 'Friend',
    maxLineBytes: DEFAULT_MAX_LINE_BYTES,
    backoff: exponentialBackoff({ baseDelayMs: 100, maxDelayMs: 100, random: () => 0 }),
    logger: log.logger,
    timers,
    handshakeTimeoutMs: DEFAULT_LINK_SETTINGS.handshakeTimeoutMs,
    maxQueuedUpdates: DEFAULT_LINK_SETTINGS.maxQueuedUpdates,
    heartbeatIntervalMs: DEFAULT_LINK_SETTINGS.heartbeatIntervalMs,
    deadAfterMs: DEFAULT_LINK_SETTINGS.deadAfterMs,
    onStatus: (status) => statuses.push(status),
    ...options,
  });
  return { link, log, statuses };
}

/**
 * Solo's side of a link that Friend dials, over `stream` (a `duplexPair()` end, or a socket Solo
 * accepted), with the default link settings, an empty store that keeps no flood, and a capturing
 * logger; `options` overrides any of them.
 */
export function accepter(timers: ManualTimers, stream: Duplex, options: Partial<IncomingLinkOptions> = {}) {
  const log = capturingLogger();
  const link = new IncomingLink({
    id: 1,
    remote: 'test',
    stream,
    self: SOLO,
    isNeighbour: (name) => name === 'Friend',
    maxLineBytes: DEFAULT_MAX_LINE_BYTES,
    handshakeTimeoutMs: DEFAULT_LINK_SETTINGS.handshakeTimeoutMs,
    heartbeatIntervalMs: DEFAULT_LINK_SETTINGS.heartbeatIntervalMs,
    deadAfterMs: DEFAULT_LINK_SETTINGS.deadAfterMs,
    timers,
    logger: log.logger,
    observer: NOOP_OBSERVER,
    store: new LocationStore(),
    ingest: () => false,
    ...options,
  });
  return { link, log };
}
