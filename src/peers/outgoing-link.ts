/**
 * The outgoing half of a link to one neighbour (docs/protocol.md "Links"): a small state machine that
 * dials the neighbour's peer port, passes the handshake (src/peers/handshake.ts), floods batched AT
 * lines, and re-dials with backoff when the connection drops. States are listed with
 * {@link LinkState} (src/core/status.ts); one method changes them and logs every transition.
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { LinkState } from '../core/status.js';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';
import { fastLogOf, type FastLog } from '../observability/fast-log.js';
import type { Logger } from '../observability/logger.js';
import type { SyncMessage } from './anti-entropy-messages.js';
import { FailureDetector, HEARTBEAT_TEXT } from './failure-detector.js';
import { checkWelcome, offerHello, type HelloOffer } from './handshake.js';
import { LinkQueue, MAX_LINES_PER_WRITE } from './link-queue.js';
import { LinkReader, type LinkHandlers, type LinkMessage } from './link-messages.js';
import { LINK_KEEPALIVE_MS } from './link-settings.js';
import { dialPeer, type OutgoingLinkOptions, type PeerAddress } from './outgoing-link-options.js';
import type { GraftMessage, PruneMessage } from './tree-messages.js';

export type { OutgoingLinkOptions, PeerAddress } from './outgoing-link-options.js';
export { MAX_LINES_PER_WRITE } from './link-queue.js';

/** On close, longest wait for the neighbour to take the last lines before the socket is cut, ms. */
export const LINK_CLOSE_TIMEOUT_MS = 1000;

/**
 * The outgoing half of a link to one neighbour. Lines given to {@link send} are queued and written
 * in batches (one socket write per event-loop turn) while the link is up, and kept (up to a bound)
 * while it is not.
 */
export class OutgoingLink {
  private statusValue: LinkState = 'idle';
  private address: PeerAddress | undefined;
  private socket: net.Socket | undefined;
  private attempt = 0;
  private timer: TimerHandle | undefined;
  /** Lines waiting to be written (binary strings). */
  private readonly queue = new LinkQueue();
  private flushScheduled = false;
  private blocked = false;
  private detector: FailureDetector | undefined;
  /** The reader of the current connection (for the text of a line that is logged). */
  private reader: LinkReader | undefined;
  /** Why the current connection is being closed, for the `link-status` line (e.g. `no data for 5000 ms`). */
  private closeReason: string | undefined;
  private readonly options: OutgoingLinkOptions;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly fastLog: FastLog;
  /** Lines dropped at the queue bound since start. */
  droppedUpdates = 0;
  /** Successful greetings since start; more than one means the link was re-established. */
  connects = 0;
  /** Connections the failure detector declared dead since start (nothing received for `deadAfterMs`). */
  timeouts = 0;

  constructor(options: OutgoingLinkOptions) {
    this.options = options;
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.log = options.logger.child({ peer: options.peerName, link: 'out' });
    this.fastLog = fastLogOf(this.log);
  }

  /** The current state. */
  get status(): LinkState {
    return this.statusValue;
  }

  /** Lines waiting to be written. */
  get queuedUpdates(): number {
    return this.queue.size;
  }

  // One place changes the state, and logs every transition.
  private setStatus(status: LinkState, details: Record<string, unknown> = {}): void {
    if (status === this.statusValue) return;
    const from = this.statusValue;
    this.statusValue = status;
    this.options.onStatus?.(status);
    this.log.info(
      { event: 'link-status', from, to: status, ...details },
      `link to ${this.options.peerName}: ${from} -> ${status}`,
    );
  }

  /** Sets (or changes) where the neighbour listens, and dials it if the link is idle. */
  setAddress(address: PeerAddress): void {
    const changed = this.address?.host !== address.host || this.address?.port !== address.port;
    this.address = address;
    if (this.statusValue === 'idle') this.dial();
    else if (changed && this.statusValue === 'backoff') this.redialNow();
  }

  /**
   * Cuts a pending backoff short and dials at once (e.g. the neighbour just dialled us, so the network
   * between us works again). A dial still `connecting` (its SYNs lost while the network was cut) is
   * abandoned and made again, instead of waiting out the kernel's retransmissions or the handshake
   * deadline.
   */
  redialNow(): void {
    if (this.statusValue === 'connecting') {
      const stuck = this.socket;
      // Cleared first, so that its close does not start a backoff.
      this.socket = undefined;
      stuck?.destroy();
      this.log.info(
        { event: 'link-redial' },
        `link to ${this.options.peerName}: dialling again now (the last dial was still connecting)`,
      );
      this.dial();
      return;
    }
    if (this.statusValue !== 'backoff') return;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.dial();
  }

  /** Queues one line (without terminator, a binary string: an AT line, an anti-entropy message) for the neighbour. */
  send(line: string): void {
    if (this.statusValue === 'closed') return;
    const max = this.options.maxQueuedUpdates;
    // The bound is for a neighbour that is down or not reading; a healthy link drains at the next flush.
    const draining = this.statusValue === 'up' && !this.blocked;
    const queued = this.queuedUpdates;
    if (!draining && queued >= max) {
      this.droppedUpdates += queued;
      this.log.warn(
        { event: 'queue-overflow', dropped: queued, maxQueuedUpdates: max },
        `queue to ${this.options.peerName} reached ${max} updates while the link was ${this.statusValue}; dropped them, anti-entropy repairs at reconnect`,
      );
      this.queue.clear();
    }
    this.queue.push(line);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.statusValue !== 'up' || this.blocked) return;
    this.flushScheduled = true;
    // setImmediate runs after the I/O of this loop turn, so a burst of floods becomes one write.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (this.statusValue !== 'up' || socket === undefined || this.blocked || this.queuedUpdates === 0) return;
    const lines = this.queue.take(MAX_LINES_PER_WRITE);
    const text = `${lines.join('\n')}\n`;
    const ok = socket.write(text, 'latin1');
    this.detector?.sent();
    this.fastLog.info(`,"event":"flood-sent","count":${lines.length}`, '"sent updates"');
    this.options.onSent?.(lines.length, text.length);
    if (!ok) {
      this.blocked = true;
      socket.once('drain', () => {
        this.blocked = false;
        this.scheduleFlush();
      });
    } else if (this.queuedUpdates > 0) {
      this.scheduleFlush();
    }
  }

  private dial(): void {
    const address = this.address;
    if (address === undefined || this.statusValue === 'closed') return;
    this.setStatus('connecting', { host: address.host, port: address.port, attempt: this.attempt });
    const socket = this.options.connect?.(address) ?? dialPeer(address, this.options.tls);
    this.socket = socket;
    this.blocked = false;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, LINK_KEEPALIVE_MS);
    const { self, peerName } = this.options;
    const offer = offerHello(self);
    const handshakeTimer = this.timers.setTimeout(() => {
      this.log.warn({ event: 'handshake-timeout' }, `no WELCOME from ${peerName} in time`);
      socket.destroy();
    }, this.options.handshakeTimeoutMs);
    const reader = new LinkReader(this.handlers(socket, offer, handshakeTimer), {
      maxLineBytes: this.options.maxLineBytes,
      onOverflow: () => {
        this.log.error(
          { event: 'peer-line-malformed', reason: `line over ${this.options.maxLineBytes} bytes` },
          `${peerName} sent a line over ${this.options.maxLineBytes} bytes; closing the connection`,
        );
        socket.destroy();
      },
    });
    this.reader = reader;
    const greet = (): void => {
      this.setStatus('greeting');
      socket.write(offer.line);
    };
    // On TLS, greet only once the neighbour's certificate is checked; on plain TCP, once connected.
    if (socket instanceof tls.TLSSocket) socket.once('secureConnect', greet);
    else socket.once('connect', greet);
    socket.on('data', (chunk: Buffer) => {
      this.detector?.received();
      reader.push(chunk);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.log.warn(
        { event: 'link-error', code: error.code, err: error.message },
        `link to ${peerName}: ${error.message}`,
      );
    });
    socket.on('close', () => {
      this.timers.clearTimeout(handshakeTimer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.detector?.stop();
      this.detector = undefined;
      const reason = this.closeReason;
      this.closeReason = undefined;
      if (this.statusValue === 'closed') return;
      const wasUp = this.statusValue === 'up';
      const delayMs = Math.round(this.options.backoff(this.attempt));
      this.attempt++;
      this.setStatus('backoff', {
        retryInMs: delayMs,
        attempt: this.attempt,
        ...(reason === undefined ? {} : { reason }),
      });
      if (wasUp) this.options.onDown?.();
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.dial();
      }, delayMs);
    });
  }

  /**
   * What each message means on the connection this link dialled: the WELCOME while greeting, then
   * heartbeats, the neighbour's answers to anti-entropy offers, and its PRUNEs and GRAFTs. Anything else is logged and
   * ignored (before the WELCOME, it fails the handshake).
   */
  private handlers(socket: net.Socket, offer: HelloOffer, handshakeTimer: TimerHandle): LinkHandlers {
    const { self, peerName } = this.options;
    const unexpected = (message: LinkMessage): void => {
      if (this.socket !== socket) return;
      if (this.statusValue === 'greeting') {
        this.failHandshake(socket, 'not a WELCOME');
        return;
      }
      this.log.warn(
        {
          event: 'peer-line-ignored',
          line: this.reader?.lineText(),
          reason: message.type === 'MALFORMED' ? message.reason : `${message.type} has no place on a dialled link`,
        },
        `unexpected line from ${peerName}`,
      );
    };
    const syncReply = (message: Extract<SyncMessage, { type: 'WANT' | 'WANT-END' }>): void => {
      if (this.statusValue === 'up' && this.socket === socket) this.options.onSyncReply?.(message);
      else unexpected(message);
    };
    const treeMessage = (message: PruneMessage | GraftMessage): void => {
      if (this.statusValue === 'up' && this.socket === socket) this.options.onTreeMessage?.(message);
      else unexpected(message);
    };
    return {
      WELCOME: (message) => {
        if (this.statusValue !== 'greeting' || this.socket !== socket) {
          unexpected(message);
          return;
        }
        const verdict = checkWelcome(message.greeting, self, peerName, offer);
        if (!verdict.ok) {
          this.failHandshake(socket, verdict.reason);
          return;
        }
        if (verdict.authLine !== undefined) socket.write(verdict.authLine);
        this.timers.clearTimeout(handshakeTimer);
        this.attempt = 0;
        this.connects++;
        this.setStatus('up', { incarnation: verdict.incarnation });
        this.watch(socket);
        this.scheduleFlush();
        this.options.onUp?.(verdict.incarnation);
      },
      HEARTBEAT: (message) => {
        if (this.statusValue !== 'up') unexpected(message);
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

  /** The neighbour's first line was no acceptable WELCOME: logged, and the connection closed. */
  private failHandshake(socket: net.Socket, reason: string): void {
    this.log.error(
      { event: 'handshake-rejected', reason, line: this.reader?.lineText() },
      `${this.options.peerName} failed the handshake (${reason}); not linking`,
    );
    socket.destroy();
  }

  // A silent network ends the connection within deadAfterMs (docs/protocol.md#heartbeats).
  private watch(socket: net.Socket): void {
    const deadAfterMs = this.options.deadAfterMs;
    this.detector = new FailureDetector({
      timers: this.timers,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      ticker: this.options.ticker,
      deadAfterMs,
      // A socket that is not draining has bytes on their way already; a heartbeat would queue behind
      // them. Lines queued for this turn's write (an announcement made on this tick) show life too.
      sendHeartbeat: () => {
        if (!this.blocked && this.queuedUpdates === 0) socket.write(HEARTBEAT_TEXT);
      },
      onDead: (silentMs) => {
        this.timeouts++;
        this.closeReason = `no data for ${deadAfterMs} ms`;
        this.log.warn(
          { event: 'link-timeout', silentMs: Math.round(silentMs), deadAfterMs },
          `link to ${this.options.peerName}: nothing received for ${Math.round(silentMs)} ms; closing it and re-dialling`,
        );
        socket.destroy();
      },
    });
  }

  /** Stops the link for good: no more dials; the connection is ended after pending lines are written. */
  async close(): Promise<void> {
    if (this.statusValue === 'closed') return;
    // Everything still queued goes to the socket now (it buffers past its high-water mark).
    this.blocked = false;
    for (let before = -1; this.queuedUpdates > 0 && this.queuedUpdates !== before;) {
      before = this.queuedUpdates;
      this.flush();
      this.blocked = false;
    }
    this.detector?.stop();
    this.detector = undefined;
    this.setStatus('closed');
    this.timers.clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = this.timers.setTimeout(() => socket.destroy(), LINK_CLOSE_TIMEOUT_MS);
      socket.once('close', () => {
        this.timers.clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }
}
