/** What the link tests share: two identities without a secret, and a dialling link to "Friend" with hand-moved timers. */
import { exponentialBackoff } from '../../src/peers/backoff.js';
import type { LinkIdentity } from '../../src/peers/handshake.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { OutgoingLink, type OutgoingLinkOptions } from '../../src/peers/outgoing-link.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/protocol/line-splitter.js';
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
