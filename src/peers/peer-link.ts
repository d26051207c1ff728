/**
 * An outgoing link to one neighbour: a small state machine that dials, greets, floods batched AT
 * lines, and re-dials with backoff when the connection drops (PROTOCOL.md section 3).
 *
 *     idle --dial--> connecting --connected--> greeting --WELCOME--> up
 *       ^                |                        |                   |
 *       +--- backoff <---+------ error/close -----+-------------------+
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../observability/logger.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import type { Backoff } from './backoff.js';
import { formatAuth, formatHello, handshakeMac, macsEqual, newNonce, parseGreeting } from './peer-protocol.js';

/** Where a neighbour listens. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** The states of a {@link PeerLink}. */
export type LinkStatus = 'idle' | 'connecting' | 'greeting' | 'up' | 'backoff' | 'closed';

/** Default {@link PeerLinkOptions.handshakeTimeoutMs}. */
export const HANDSHAKE_TIMEOUT_MS = 5000;
/** Default {@link PeerLinkOptions.maxQueuedUpdates}. */
export const MAX_QUEUED_UPDATES = 100_000;

/** Timer functions, injectable so tests can drive reconnects without sleeping. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const SYSTEM_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Settings of a {@link PeerLink}. */
export interface PeerLinkOptions {
  /** This server's name, sent in HELLO. */
  readonly localName: string;
  /** This server's incarnation, sent in HELLO. */
  readonly incarnation: string;
  /** The neighbour's name; its WELCOME must carry it. */
  readonly peerName: string;
  /** Delay before each re-dial, by attempt. */
  readonly backoff: Backoff;
  readonly logger: Logger;
  /** Longest wait for WELCOME after connecting, ms. @default {@link HANDSHAKE_TIMEOUT_MS} */
  readonly handshakeTimeoutMs?: number;
  /**
   * Most lines held while the neighbour is unreachable or not reading (its socket is full). Past it
   * the queue is dropped whole and logged; anti-entropy at the next link-up repairs the loss.
   * @default {@link MAX_QUEUED_UPDATES}
   */
  readonly maxQueuedUpdates?: number;
  /** @default real timers */
  readonly timers?: Timers;
  /** Opens the TCP connection. @default `net.connect` */
  readonly connect?: (address: PeerAddress) => net.Socket;
  /** Called each time the link comes up, with the neighbour's incarnation from its WELCOME. */
  readonly onUp?: (incarnation: string) => void;
  /** Called for each line the neighbour sends after its WELCOME (anti-entropy replies). */
  readonly onMessage?: (line: string) => void;
  /** Called on every state change. */
  readonly onStatus?: (status: LinkStatus) => void;
  /** Called after each batched write with the number of lines in it. */
  readonly onSent?: (lines: number) => void;
  /** The herd secret: the neighbour must prove it, and this side proves it in turn. @default none (development mode) */
  readonly secret?: Buffer;
  /** Dial with TLS, with these options (CA, client certificate). @default plain TCP */
  readonly tls?: tls.ConnectionOptions;
}

/** Idle time after which TCP keep-alive probes a link, ms (a dead neighbour is noticed without traffic). */
export const LINK_KEEPALIVE_MS = 15_000;

/**
 * The outgoing half of a link to one neighbour. Lines given to {@link send} are queued and written
 * in batches (one socket write per event-loop turn) while the link is up, and kept (up to a bound)
 * while it is not.
 */
export class PeerLink {
  private statusValue: LinkStatus = 'idle';
  private address: PeerAddress | undefined;
  private socket: net.Socket | undefined;
  private attempt = 0;
  private timer: unknown;
  private queue: string[] = [];
  private flushScheduled = false;
  private blocked = false;
  private readonly options: PeerLinkOptions;
  private readonly timers: Timers;
  private readonly log: Logger;
  /** Lines dropped at the queue bound since start. */
  droppedUpdates = 0;
  /** Successful greetings since start; more than one means the link was re-established. */
  connects = 0;

  constructor(options: PeerLinkOptions) {
    this.options = options;
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.log = options.logger.child({ peer: options.peerName, link: 'out' });
  }

  /** The current state. */
  get status(): LinkStatus {
    return this.statusValue;
  }

  /** Lines waiting to be written. */
  get queuedUpdates(): number {
    return this.queue.length;
  }

  // One place changes the state, and logs every transition.
  private setStatus(status: LinkStatus, details: Record<string, unknown> = {}): void {
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

  /** Cuts a pending backoff short and dials at once (e.g. the neighbour just dialled us). */
  redialNow(): void {
    if (this.statusValue !== 'backoff') return;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.dial();
  }

  /** Queues one AT line (without terminator) for the neighbour. */
  send(line: string): void {
    if (this.statusValue === 'closed') return;
    const max = this.options.maxQueuedUpdates ?? MAX_QUEUED_UPDATES;
    // The bound is for a neighbour that is down or not reading; a healthy link drains at the next flush.
    const draining = this.statusValue === 'up' && !this.blocked;
    if (!draining && this.queue.length >= max) {
      this.droppedUpdates += this.queue.length;
      this.log.warn(
        { event: 'queue-overflow', dropped: this.queue.length, maxQueuedUpdates: max },
        `queue to ${this.options.peerName} reached ${max} updates while the link was ${this.statusValue}; dropped them, anti-entropy repairs at reconnect`,
      );
      this.queue = [];
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
    if (this.statusValue !== 'up' || socket === undefined || this.blocked || this.queue.length === 0) return;
    const lines = this.queue;
    this.queue = [];
    const ok = socket.write(`${lines.join('\n')}\n`);
    this.log.info(
      { event: 'flood-sent', count: lines.length },
      `sent ${lines.length} update(s) to ${this.options.peerName}`,
    );
    this.options.onSent?.(lines.length);
    if (!ok) {
      this.blocked = true;
      socket.once('drain', () => {
        this.blocked = false;
        this.scheduleFlush();
      });
    }
  }

  private dial(): void {
    const address = this.address;
    if (address === undefined || this.statusValue === 'closed') return;
    this.setStatus('connecting', { host: address.host, port: address.port, attempt: this.attempt });
    const tlsOptions = this.options.tls;
    const defaultConnect = (a: PeerAddress): net.Socket =>
      tlsOptions === undefined
        ? net.connect({ host: a.host, port: a.port })
        : // SNI takes host names only (RFC 6066); an IP address is checked against the certificate's IP SANs.
          tls.connect({
            ...(net.isIP(a.host) === 0 ? { servername: a.host } : {}),
            ...tlsOptions,
            host: a.host,
            port: a.port,
          });
    const socket = (this.options.connect ?? defaultConnect)(address);
    this.socket = socket;
    this.blocked = false;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, LINK_KEEPALIVE_MS);
    const secret = this.options.secret;
    const ownNonce = secret === undefined ? undefined : newNonce();
    const handshakeTimer = this.timers.setTimeout(() => {
      this.log.warn({ event: 'handshake-timeout' }, `no WELCOME from ${this.options.peerName} in time`);
      socket.destroy();
    }, this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    const splitter = new LineSplitter((line) => {
      if (this.statusValue === 'up') {
        this.options.onMessage?.(line);
        return;
      }
      if (this.statusValue !== 'greeting') return;
      const greeting = parseGreeting(line);
      if (greeting?.verb !== 'WELCOME' || greeting.serverName !== this.options.peerName) {
        this.log.error(
          { event: 'handshake-rejected', line: line.slice(0, 200) },
          `bad greeting from ${this.options.peerName}: ${line.slice(0, 200)}`,
        );
        socket.destroy();
        return;
      }
      if (secret !== undefined && ownNonce !== undefined) {
        const expected = handshakeMac(
          secret,
          'WELCOME',
          this.options.peerName,
          this.options.localName,
          ownNonce,
          greeting.nonce ?? '',
          greeting.incarnation,
        );
        if (greeting.nonce === undefined || greeting.mac === undefined || !macsEqual(expected, greeting.mac)) {
          this.log.error(
            {
              event: 'handshake-rejected',
              reason: greeting.mac === undefined ? 'neighbour has no herd secret' : 'bad MAC',
            },
            `${this.options.peerName} failed authentication (${greeting.mac === undefined ? 'it runs without a herd secret' : 'wrong herd secret'}); not linking`,
          );
          socket.destroy();
          return;
        }
        socket.write(
          formatAuth(
            handshakeMac(
              secret,
              'AUTH',
              this.options.localName,
              this.options.peerName,
              greeting.nonce,
              ownNonce,
              this.options.incarnation,
            ),
          ),
        );
      }
      this.timers.clearTimeout(handshakeTimer);
      this.attempt = 0;
      this.connects++;
      this.setStatus('up', { incarnation: greeting.incarnation });
      this.scheduleFlush();
      this.options.onUp?.(greeting.incarnation);
    });
    const greet = (): void => {
      this.setStatus('greeting');
      socket.write(formatHello(this.options.localName, this.options.incarnation, ownNonce));
    };
    // A TLS socket may be written at once (data waits for the TLS handshake); 'connect' alone would
    // greet before certificates are checked only on plain TCP, where there are none.
    if (socket instanceof tls.TLSSocket) socket.once('secureConnect', greet);
    else socket.once('connect', greet);
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.log.warn(
        { event: 'link-error', code: error.code, err: error.message },
        `link to ${this.options.peerName}: ${error.message}`,
      );
    });
    socket.on('close', () => {
      this.timers.clearTimeout(handshakeTimer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.statusValue === 'closed') return;
      const delayMs = Math.round(this.options.backoff(this.attempt));
      this.attempt++;
      this.setStatus('backoff', { retryInMs: delayMs, attempt: this.attempt });
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.dial();
      }, delayMs);
    });
  }

  /** Stops the link for good: no more dials; the connection is ended after pending lines are written. */
  async close(): Promise<void> {
    if (this.statusValue === 'closed') return;
    this.flush();
    this.setStatus('closed');
    this.timers.clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }
}
