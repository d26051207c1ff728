/**
 * What each message means on a connection that an outgoing link (./outgoing-link.ts) dialled
 * (docs/protocol.md "Links"): the WELCOME while greeting, then heartbeats, the neighbour's answers
 * to anti-entropy offers, and its PRUNEs and GRAFTs. Anything else is logged and ignored; before
 * the WELCOME, it fails the handshake.
 */
import type { LinkState } from '../core/status.js';
import type { Logger } from '../observability/logger.js';
import type { SyncMessage } from './anti-entropy-messages.js';
import type { Greeting } from './handshake.js';
import type { LinkHandlers, LinkMessage } from './link-messages.js';
import type { GraftMessage, PruneMessage } from './tree-messages.js';

/** What the message table of one dialled connection needs from its link. */
export interface DialledConnection {
  readonly peerName: string;
  /** The link's logger. */
  readonly log: Logger;
  /** The link's state while this connection is its current one; `undefined` once it is not. */
  readonly state: () => LinkState | undefined;
  /** The text of the line being handled, for logs. */
  readonly lineText: () => string;
  /** A WELCOME arrived while greeting: check it and bring the link up. */
  readonly onWelcome: (greeting: Greeting) => void;
  /** The first line was no acceptable WELCOME: log it and close the connection. */
  readonly failHandshake: (reason: string) => void;
  /** The neighbour's answer to an anti-entropy offer, while up. */
  readonly onSyncReply?: (message: Extract<SyncMessage, { type: 'WANT' | 'WANT-END' }>) => void;
  /** A PRUNE or a GRAFT (tree dissemination), while up. */
  readonly onTreeMessage?: (message: PruneMessage | GraftMessage) => void;
}

/** The message table of one dialled connection. */
export function dialledHandlers(connection: DialledConnection): LinkHandlers {
  const { peerName, log } = connection;
  const unexpected = (message: LinkMessage): void => {
    const state = connection.state();
    if (state === undefined) return;
    if (state === 'greeting') {
      connection.failHandshake('not a WELCOME');
      return;
    }
    log.warn(
      {
        event: 'peer-line-ignored',
        line: connection.lineText(),
        reason: message.type === 'MALFORMED' ? message.reason : `${message.type} has no place on a dialled link`,
      },
      `unexpected line from ${peerName}`,
    );
  };
  const syncReply = (message: Extract<SyncMessage, { type: 'WANT' | 'WANT-END' }>): void => {
    if (connection.state() === 'up') connection.onSyncReply?.(message);
    else unexpected(message);
  };
  const treeMessage = (message: PruneMessage | GraftMessage): void => {
    if (connection.state() === 'up') connection.onTreeMessage?.(message);
    else unexpected(message);
  };
  return {
    WELCOME: (message) => {
      if (connection.state() === 'greeting') connection.onWelcome(message.greeting);
      else unexpected(message);
    },
    HEARTBEAT: (message) => {
      if (connection.state() !== 'up') unexpected(message);
    },
    WANT: syncReply,
    'WANT-END': syncReply,
    PRUNE: treeMessage,
    GRAFT: treeMessage,
    IHAVE: unexpected,
    AT: unexpected,
    HELLO: unexpected,
    AUTH: unexpected,
    SYNC: unexpected,
    SUMS: unexpected,
    'SUMS-END': unexpected,
    SYNCED: unexpected,
    MALFORMED: unexpected,
  };
}
