/**
 * The outgoing half of a link to one neighbour (docs/protocol.md "Links"): a small state machine that
 * dials the neighbour's peer port, passes the handshake (src/peers/handshake.ts), floods batched AT
 * lines, and re-dials with backoff when the connection drops. States are listed with
 * {@link LinkState} (src/core/status.ts); one writer (./link-status.ts) changes them and logs every
 * transition; what each message means on a dialled connection is in ./outgoing-link-handlers.ts.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { LinkState } from '../core/status.js';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';
import { fastLogOf, type FastLog } from '../observability/fast-log.js';
import type { Logger } from '../observability/logger.js';
import { FailureDetector, HEARTBEAT_TEXT } from './failure-detector.js';
import { checkWelcome, offerHello, type Greeting, type HelloOffer } from './handshake.js';
import { LinkQueue, MAX_LINES_PER_WRITE } from './link-queue.js';
import { LinkReader } from './link-messages.js';
import { LINK_KEEPALIVE_MS, LINK_READ_BUFFER_BYTES } from './link-settings.js';
import { LinkStatus } from './link-status.js';
import { dialledHandlers, type DialledConnection } from './outgoing-link-handlers.js';
import { connectDeadline, dialPeer, type OutgoingLinkOptions, type PeerAddress } from './outgoing-link-options.js';
import { READ_SLICES } from '../core/read-slices.js';

export type { OutgoingLinkOptions, PeerAddress } from './outgoing-link-options.js';
export { MAX_LINES_PER_WRITE } from './link-queue.js';

/** On close, longest wait for the neighbour to take the last lines before the socket is cut, ms. */
export const LINK_CLOSE_TIMEOUT_MS = 1000;

/**
 * The outgoing half of a link to one neighbour. While the link is up, the first line given to
 * {@link send} in an event-loop turn is written at once, and the lines that follow it in the same
 * turn are queued and written together after the turn's I/O (one more write); while it is not, lines
 * are kept (up to a bound).
 */
export class OutgoingLink {
  private readonly state: LinkStatus<LinkState>;
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
  /** What a plain-TCP connection reads into, reused by every read and connection (made at the first dial). */
  private readBuffer: Buffer | undefined;
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
    // One place changes the state, and logs every transition.
    this.state = new LinkStatus<LinkState>({
      initial: 'idle',
      log: this.log,
      title: () => `link to ${options.peerName}`,
      onChange: options.onStatus,
    });
  }

  /** The current state. */
  get status(): LinkState {
    return this.state.value;
  }

  /** Lines waiting to be written. */
  get queuedUpdates(): number {
    return this.queue.size;
  }

  /** Sets (or changes) where the neighbour listens, and dials it if the link is idle. */
  setAddress(address: PeerAddress): void {
    const changed = this.address?.host !== address.host || this.address?.port !== address.port;
    this.address = address;
    if (this.state.value === 'idle') this.dial();
    else if (changed && this.state.value === 'backoff') this.redialNow();
  }

  /**
   * Cuts a pending backoff short and dials at once (e.g. the neighbour just dialled us, so the network
   * between us works again). A dial still `connecting` (its SYNs lost while the network was cut) is
   * abandoned and made again, instead of waiting out the kernel's retransmissions or the handshake
   * deadline.
   */
  redialNow(): void {
    if (this.state.value === 'connecting') {
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
    if (this.state.value !== 'backoff') return;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.dial();
  }

  /** Queues one line (without terminator, a binary string: an AT line, an anti-entropy message) for the neighbour. */
  send(line: string): void {
    if (this.state.value === 'closed') return;
    const max = this.options.maxQueuedUpdates;
    // The bound is for a neighbour that is down or not reading; a healthy link drains at the next flush.
    const draining = this.state.value === 'up' && !this.blocked;
    const queued = this.queuedUpdates;
    if (!draining && queued >= max) {
      this.droppedUpdates += queued;
      this.log.warn(
        { event: 'queue-overflow', dropped: queued, maxQueuedUpdates: max },
        `queue to ${this.options.peerName} reached ${max} updates while the link was ${this.state.value}; dropped them, anti-entropy repairs at reconnect`,
      );
      this.queue.clear();
    }
    this.queue.push(line);
    // The first line of a turn goes out at once (a light load pays no batch delay); the lines that
    // follow it in the same turn wait for the flush after this turn's I/O, as one write.
    if (!this.flushScheduled && this.queuedUpdates === 1) this.flush();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.state.value !== 'up' || this.blocked) return;
    this.flushScheduled = true;
    // setImmediate runs after the I/O of this loop turn, so a burst of floods becomes one write.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (this.state.value !== 'up' || socket === undefined || this.blocked || this.queuedUpdates === 0) return;
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
    if (address === undefined || this.state.value === 'closed') return;
    this.state.set('connecting', { host: address.host, port: address.port, attempt: this.attempt });
    // A plain-TCP connection of its own reads into the link's one buffer (no allocation per read;
    // the reader copies the unterminated rest); any other connection emits 'data' chunks.
    const reads = this.options.connect === undefined && this.options.tls === undefined;
    const onread: net.OnReadOpts | undefined = reads
      ? {
          buffer: (this.readBuffer ??= Buffer.allocUnsafe(this.options.readBufferBytes ?? LINK_READ_BUFFER_BYTES)),
          callback: (bytes, buffer) => {
            this.detector?.received();
            READ_SLICES.readLink(socket, reader, (buffer as Buffer).subarray(0, bytes), true);
            return true;
          },
        }
      : undefined;
    const socket = this.options.connect?.(address) ?? dialPeer(address, this.options.tls, onread);
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
    const connectTimer = connectDeadline(socket, this.options.connectTimeoutMs, this.timers, (reason) => {
      if (this.socket === socket) this.closeReason = reason;
      this.log.warn({ event: 'connect-timeout' }, `link to ${peerName}: ${reason}; dialling again`);
    });
    const connection: DialledConnection = {
      peerName,
      log: this.log,
      state: () => (this.socket === socket ? this.state.value : undefined),
      lineText: () => reader.lineText(),
      onWelcome: (greeting) => this.onWelcome(socket, greeting, offer, handshakeTimer),
      failHandshake: (reason) => this.failHandshake(socket, reason),
      onSyncReply: this.options.onSyncReply,
      onTreeMessage: this.options.onTreeMessage,
    };
    const reader: LinkReader = new LinkReader(dialledHandlers(connection), {
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
      this.state.set('greeting');
      socket.write(offer.line);
    };
    // On TLS, greet only once the neighbour's certificate is checked; on plain TCP, once connected.
    // `encrypted` is true on a TLS socket only (Node's documented test; node:tls need not be loaded).
    if ((socket as Partial<tls.TLSSocket>).encrypted === true) socket.once('secureConnect', greet);
    else socket.once('connect', greet);
    if (onread === undefined) {
      socket.on('data', (chunk: Buffer) => {
        this.detector?.received();
        READ_SLICES.readLink(socket, reader, chunk);
      });
    }
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.log.warn(
        { event: 'link-error', code: error.code, err: error.message },
        `link to ${peerName}: ${error.message}`,
      );
    });
    socket.on('close', () => {
      this.timers.clearTimeout(handshakeTimer);
      this.timers.clearTimeout(connectTimer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.detector?.stop();
      this.detector = undefined;
      const reason = this.closeReason;
      this.closeReason = undefined;
      if (this.state.value === 'closed') return;
      const wasUp = this.state.value === 'up';
      const delayMs = Math.round(this.options.backoff(this.attempt));
      this.attempt++;
      this.state.set('backoff', {
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

  /** The neighbour's WELCOME on `socket`, while greeting: checked, and the link brought up. */
  private onWelcome(socket: net.Socket, greeting: Greeting, offer: HelloOffer, handshakeTimer: TimerHandle): void {
    const verdict = checkWelcome(greeting, this.options.self, this.options.peerName, offer);
    if (!verdict.ok) {
      this.failHandshake(socket, verdict.reason);
      return;
    }
    if (verdict.authLine !== undefined) socket.write(verdict.authLine);
    this.timers.clearTimeout(handshakeTimer);
    this.attempt = 0;
    this.connects++;
    this.state.set('up', { incarnation: verdict.incarnation });
    this.watch(socket);
    this.scheduleFlush();
    this.options.onUp?.(verdict.incarnation);
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
    if (this.state.value === 'closed') return;
    // Everything still queued goes to the socket now (it buffers past its high-water mark).
    this.blocked = false;
    for (let before = -1; this.queuedUpdates > 0 && this.queuedUpdates !== before;) {
      before = this.queuedUpdates;
      this.flush();
      this.blocked = false;
    }
    this.detector?.stop();
    this.detector = undefined;
    this.state.set('closed');
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
