/**
 * The settings of an outgoing link (./outgoing-link.ts) and where a neighbour listens: the one shape
 * that HerdServer's links (./links.ts) fill from the resolved link settings (./link-settings.ts).
 */
import net from 'node:net';
import type tls from 'node:tls';
import { nodeTls } from '../core/lazy-builtins.js';
import type { LinkState } from '../core/status.js';
import { setDeadlineAfterIo, type TimerHandle, type Timers } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';
import type { SyncMessage } from './anti-entropy-messages.js';
import type { Backoff } from './backoff.js';
import type { HeartbeatTicker } from './failure-detector.js';
import type { LinkIdentity } from './handshake.js';
import type { GraftMessage, PruneMessage } from './tree-messages.js';

/** Where a neighbour's peer port listens. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Settings of an {@link OutgoingLink}. */
export interface OutgoingLinkOptions {
  /** This server (name, incarnation and herd secret, sent and proved in the handshake). */
  readonly self: LinkIdentity;
  /** The neighbour's name; its WELCOME must carry it. */
  readonly peerName: string;
  /** Delay before each re-dial, by attempt. */
  readonly backoff: Backoff;
  readonly logger: Logger;
  /** Longest wait for the TCP connection of a dial, ms; then the dial is abandoned and made again after the backoff. */
  readonly connectTimeoutMs: number;
  /** Longest wait for WELCOME after connecting, ms (settings resolved once: src/peers/link-settings.ts). */
  readonly handshakeTimeoutMs: number;
  /**
   * Most lines held while the neighbour is unreachable or not reading (its socket is full). Past it
   * the queue is dropped whole and logged; anti-entropy at the next link-up repairs the loss.
   */
  readonly maxQueuedUpdates: number;
  /** Heartbeat when nothing was written for this long, ms. */
  readonly heartbeatIntervalMs: number;
  /** The server's shared heartbeat ticks. @default one of this link's own */
  readonly ticker?: HeartbeatTicker;
  /** Close and re-dial when nothing was received for this long, ms. */
  readonly deadAfterMs: number;
  /** @default {@link SYSTEM_TIMERS} */
  readonly timers?: Timers;
  /** Opens the TCP connection. @default `net.connect` (or `tls.connect` with {@link tls}) */
  readonly connect?: (address: PeerAddress) => net.Socket;
  /** Called each time the link comes up, with the neighbour's incarnation from its WELCOME. */
  readonly onUp?: (incarnation: string) => void;
  /** Called each time an up link goes down. */
  readonly onDown?: () => void;
  /** Called for each anti-entropy reply the neighbour sends after its WELCOME (WANT, WANT-END). */
  readonly onSyncReply?: (message: Extract<SyncMessage, { type: 'WANT' | 'WANT-END' }>) => void;
  /** Called for each PRUNE and GRAFT the neighbour sends once the link is up (tree dissemination, ./plumtree.ts). */
  readonly onTreeMessage?: (message: PruneMessage | GraftMessage) => void;
  /** Longest line the neighbour may send, bytes (`limits.maxLineBytes`); a longer one closes the connection. */
  readonly maxLineBytes: number;
  /** Called on every state change. */
  readonly onStatus?: (status: LinkState) => void;
  /** Called after each write of lines with the number of lines in it and its bytes (LFs included). */
  readonly onSent?: (lines: number, bytes: number) => void;
  /** Dial with TLS, with these options (CA, client certificate). @default plain TCP */
  readonly tls?: tls.ConnectionOptions;
  /**
   * Size of the buffer a plain-TCP connection that the link dials itself (no {@link connect}, no
   * {@link tls}) reads into, reused for every read, bytes. @default `LINK_READ_BUFFER_BYTES` (./link-settings.ts)
   */
  readonly readBufferBytes?: number;
}

/**
 * Opens a connection to a neighbour's peer port: plain TCP, or TLS with `tlsOptions` (the server name
 * sent for SNI only when the host is a name: RFC 6066; an IP address is checked against the
 * certificate's IP SANs).
 *
 * @param onread - plain TCP only: read into this buffer and hand each read to its callback instead
 *   of emitting `'data'` (Node's `onread` option); ignored with `tlsOptions`.
 */
export function dialPeer(
  address: PeerAddress,
  tlsOptions?: tls.ConnectionOptions,
  onread?: net.OnReadOpts,
): net.Socket {
  if (tlsOptions === undefined) return net.connect({ host: address.host, port: address.port, onread });
  return nodeTls().connect({
    ...(net.isIP(address.host) === 0 ? { servername: address.host } : {}),
    ...tlsOptions,
    host: address.host,
    port: address.port,
  });
}

/**
 * The connect deadline of a dial (`peer.connectTimeoutMs`): when `socket` has not connected within
 * `timeoutMs` (its SYNs unanswered: a cut or silent network, a full accept queue), `onTimeout` is told
 * why and the socket is destroyed, so that the dial is made again after the backoff instead of waiting
 * out the kernel's SYN retransmissions and the handshake deadline. The verdict waits for the I/O of
 * the turn in which the deadline fires (`setDeadlineAfterIo`): after an event loop blocked for longer than
 * the deadline (a busy start), a connection the kernel made meanwhile is taken, not cut.
 *
 * @returns the timer; clear it when the socket closes first.
 */
export function connectDeadline(
  socket: net.Socket,
  timeoutMs: number,
  timers: Timers,
  onTimeout: (reason: string) => void,
): TimerHandle {
  let connected = false;
  const timer = setDeadlineAfterIo(timers, timeoutMs, () => {
    if (connected || socket.destroyed) return;
    onTimeout(`not connected in ${timeoutMs} ms`);
    socket.destroy();
  });
  socket.once('connect', () => {
    connected = true;
    timers.clearTimeout(timer);
  });
  return timer;
}
