/**
 * The accepted side of a link: one connection to the peer port (docs/protocol.md "Links"). Its first
 * line must be a valid HELLO from a neighbour, and with a herd secret the next must be the right
 * AUTH; anything else is logged and the connection closed, with no reply. Only then are its lines
 * taken: AT lines as floods (through `ingest`, newer wins), and anti-entropy offers answered by an
 * {@link AntiEntropyResponder}. Its states are {@link IncomingLinkState}; one writer (./link-status.ts)
 * changes them and logs every transition. Works on any duplex stream, so tests need no socket.
 */
import type { Duplex } from 'node:stream';
import type { Timers, TimerHandle } from '../core/timers.js';
import { fastLogOf, type FastLog } from '../observability/fast-log.js';
import { FloodLog } from './flood-log.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';
import type { AtRecord } from '../protocol/at-record.js';
import type { LocationStore } from '../store/location-store.js';
import { AntiEntropyResponder } from './anti-entropy.js';
import { FailureDetector, HEARTBEAT_TEXT, type HeartbeatTicker } from './failure-detector.js';
import { answerHello, checkAuth, type Greeting, type LinkIdentity } from './handshake.js';
import { LinkReader, type AtMessage, type LinkHandlers, type LinkMessage } from './link-messages.js';
import { LinkStatus } from './link-status.js';
import type { IHaveMessage } from './tree-messages.js';
import { READ_SLICES } from '../core/read-slices.js';

/** Where an incoming link is in its life: waiting for the HELLO, then for the AUTH (with a herd secret), up, closed. */
export type IncomingLinkState = 'hello' | 'auth' | 'up' | 'closed';

/** Options of an {@link IncomingLink}. */
export interface IncomingLinkOptions {
  /** A process-unique connection id, for logs. */
  readonly id: number;
  /** `host:port` of the remote end, for logs. */
  readonly remote: string;
  readonly stream: Duplex;
  /** This server in the handshake. */
  readonly self: LinkIdentity;
  /** Whether a server of this name may link to this one. */
  readonly isNeighbour: (name: string) => boolean;
  /** Longest line, bytes; a longer one closes the connection. */
  readonly maxLineBytes: number;
  /** Longest wait for HELLO (and AUTH) after accepting, ms. */
  readonly handshakeTimeoutMs: number;
  /** Heartbeat when nothing was written for this long, ms (settings resolved once: src/peers/link-settings.ts). */
  readonly heartbeatIntervalMs: number;
  /** Close when nothing was received for this long, ms. */
  readonly deadAfterMs: number;
  /** The server's shared heartbeat ticks. @default one of this link's own */
  readonly ticker?: HeartbeatTicker;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly observer: ServerObserver;
  /** The table anti-entropy offers are compared with. */
  readonly store: LocationStore;
  /** Takes a record from the neighbour: stores it if newer, persists and floods it on; true when stored. */
  readonly ingest: (record: AtRecord, from: string) => boolean;
  /**
   * Called when a flood (not an anti-entropy record) was not stored: stale, or a duplicate (tree
   * dissemination prunes on duplicates, src/peers/plumtree.ts).
   */
  readonly onNotStored?: (record: AtMessage, link: IncomingLink) => void;
  /** Called for each IHAVE once the link is up (tree dissemination). */
  readonly onIHave?: (message: IHaveMessage, link: IncomingLink) => void;
  /** Called once the neighbour has passed the handshake. */
  readonly onUp?: (link: IncomingLink) => void;
  /** Called once when the connection is gone. */
  readonly onClose?: (link: IncomingLink, reason: string) => void;
}

/** One accepted connection on the peer port, from handshake to close. */
export class IncomingLink {
  readonly id: number;
  readonly remote: string;
  private readonly status: LinkStatus<IncomingLinkState>;
  private peer: string | undefined;
  private incarnationValue: string | undefined;
  private expectedAuthMac: string | undefined;
  private handshakeTimer: TimerHandle | undefined;
  private responder: AntiEntropyResponder | undefined;
  private detector: FailureDetector | undefined;
  private timedOutValue = false;
  private readonly options: IncomingLinkOptions;
  private readonly reader: LinkReader;
  private readonly fastLog: FastLog;
  /** The flood log events of this link's neighbour, made once it is known. */
  private floodLog: FloodLog | undefined;

  constructor(options: IncomingLinkOptions) {
    this.options = options;
    this.id = options.id;
    this.remote = options.remote;
    this.fastLog = fastLogOf(options.logger);
    // One place changes the state, and logs every transition (the neighbour's name once it is known).
    this.status = new LinkStatus<IncomingLinkState>({
      initial: 'hello',
      log: options.logger.child({ link: 'in', conn: options.id, remote: options.remote }),
      title: () => `link from ${this.peer ?? this.remote}`,
      fields: () => ({ peer: this.peer }),
    });
    const { stream, timers } = options;
    this.reader = new LinkReader(this.handlers(), {
      maxLineBytes: options.maxLineBytes,
      onOverflow: () => this.refuse(`line over ${options.maxLineBytes} bytes`),
      heldLine: (clientId) => options.store.atLineOf(clientId),
    });
    this.handshakeTimer = timers.setTimeout(
      () => this.refuse(this.state === 'auth' ? 'no AUTH in time' : 'no HELLO in time'),
      options.handshakeTimeoutMs,
    );
    stream.on('data', (chunk: Buffer) => {
      this.detector?.received();
      READ_SLICES.readLink(stream, this.reader, chunk);
    });
    stream.on('end', () => {
      this.reader.finish();
      this.close('ended');
      stream.end();
    });
    stream.on('error', (error: Error) => this.close(`error: ${error.message}`));
    stream.on('close', () => this.close('closed'));
  }

  /** The handshake state; `up` once the neighbour is authenticated. */
  get state(): IncomingLinkState {
    return this.status.value;
  }

  /** The neighbour's name, once its HELLO was accepted. */
  get peerName(): string | undefined {
    return this.peer;
  }

  /** The neighbour's incarnation from its HELLO. */
  get incarnation(): string | undefined {
    return this.incarnationValue;
  }

  /** True when the failure detector closed the link (nothing received for `deadAfterMs`). */
  get timedOut(): boolean {
    return this.timedOutValue;
  }

  /**
   * What each message means on the peer port: a HELLO first, then (with a herd secret) an AUTH, then
   * floods, heartbeats and the dialler's anti-entropy offers. Anything out of place before the link
   * is up refuses the connection; after, it is logged and ignored.
   */
  private handlers(): LinkHandlers {
    const sync = (message: Extract<LinkMessage, { type: 'SYNC' | 'SUMS' | 'SUMS-END' | 'SYNCED' }>): void => {
      if (this.state === 'up') this.responder?.onMessage(message);
      else this.outOfPlace(message);
    };
    return {
      HELLO: (message) => (this.state === 'hello' ? this.onHello(message.greeting) : this.outOfPlace(message)),
      AUTH: (message) => {
        if (this.state !== 'auth') this.outOfPlace(message);
        else if (checkAuth(message.mac, this.expectedAuthMac as string)) this.becomeUp();
        else this.refuse('bad MAC');
      },
      AT: (message) => (this.state === 'up' ? this.onFlood(message) : this.outOfPlace(message)),
      HEARTBEAT: (message) => {
        // Its bytes already told the failure detector the neighbour is alive.
        if (this.state !== 'up') this.outOfPlace(message);
      },
      IHAVE: (message) => (this.state === 'up' ? this.options.onIHave?.(message, this) : this.outOfPlace(message)),
      PRUNE: (message) => this.outOfPlace(message),
      GRAFT: (message) => this.outOfPlace(message),
      SYNC: sync,
      SUMS: sync,
      'SUMS-END': sync,
      SYNCED: sync,
      WELCOME: (message) => this.outOfPlace(message),
      WANT: (message) => this.outOfPlace(message),
      'WANT-END': (message) => this.outOfPlace(message),
      MALFORMED: (message) => this.outOfPlace(message),
    };
  }

  /** A message that has no place here: before the link is up it refuses the connection, after it is logged. */
  private outOfPlace(message: LinkMessage): void {
    const line = this.reader.lineText();
    if (this.state === 'hello') {
      this.refuse('first line is not a HELLO', line);
      return;
    }
    if (this.state === 'auth') {
      this.refuse('no AUTH', line);
      return;
    }
    if (this.state !== 'up') return;
    const peerName = this.peer as string;
    const flood = message.type === 'MALFORMED' && line.startsWith('AT');
    this.options.logger.error(
      {
        event: flood ? 'flood-malformed' : 'peer-line-malformed',
        peer: peerName,
        line,
        reason: message.type === 'MALFORMED' ? message.reason : `${message.type} has no place on the peer port`,
      },
      `malformed line from ${peerName}`,
    );
  }

  private onHello(greeting: Greeting): void {
    const { self, isNeighbour, stream } = this.options;
    const answer = answerHello(greeting, self, isNeighbour);
    if (!answer.ok) {
      this.peer = answer.peerName;
      this.refuse(answer.reason, this.reader.lineText());
      return;
    }
    this.peer = answer.peerName;
    this.incarnationValue = answer.incarnation;
    stream.write(answer.reply);
    if (answer.expectedAuthMac === undefined) {
      this.becomeUp();
    } else {
      this.expectedAuthMac = answer.expectedAuthMac;
      this.status.set('auth');
    }
  }

  private becomeUp(): void {
    const { timers, logger, store, stream, self } = this.options;
    timers.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.expectedAuthMac = undefined;
    this.status.set('up', { incarnation: this.incarnationValue });
    const peerName = this.peer as string;
    this.responder = new AntiEntropyResponder({
      peerName,
      store,
      send: (text) => {
        stream.write(text, 'latin1');
        this.detector?.sent();
      },
      log: logger,
      timers,
    });
    this.watch(peerName);
    logger.info(
      {
        event: 'peer-connected',
        conn: this.id,
        peer: peerName,
        incarnation: this.incarnationValue,
        remote: this.remote,
        authenticated: self.secret !== undefined,
      },
      `link from ${peerName} up`,
    );
    this.options.onUp?.(this);
  }

  /** A flood (or an anti-entropy record): through the merge rule, then logged and counted. */
  private onFlood(message: AtMessage): void {
    const peerName = this.peer as string;
    const stored = this.options.ingest(message, peerName);
    if (stored) this.responder?.noteStored();
    // Records of an anti-entropy exchange are often held already: only a flood's duplicate prunes.
    else if (this.responder?.exchanging !== true) this.options.onNotStored?.(message, this);
    this.options.observer.flood(stored ? 'stored' : 'stale', peerName, 1);
    (this.floodLog ??= new FloodLog(this.fastLog, peerName)).write(stored, message);
  }

  // The accepted side, too, closes a link that went silent (docs/protocol.md#heartbeats).
  private watch(peerName: string): void {
    const { timers, logger, stream } = this.options;
    const deadAfterMs = this.options.deadAfterMs;
    this.detector = new FailureDetector({
      timers,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      ticker: this.options.ticker,
      deadAfterMs,
      sendHeartbeat: () => {
        if (stream.writableLength === 0) stream.write(HEARTBEAT_TEXT);
      },
      onDead: (silentMs) => {
        this.timedOutValue = true;
        logger.warn(
          {
            event: 'link-timeout',
            peer: peerName,
            link: 'in',
            conn: this.id,
            silentMs: Math.round(silentMs),
            deadAfterMs,
          },
          `link from ${peerName}: nothing received for ${Math.round(silentMs)} ms; closing it`,
        );
        this.destroy(`no data for ${deadAfterMs} ms`);
      },
    });
  }

  /** Logs why the connection is not (or no longer) a link and closes it, without a reply. */
  private refuse(reason: string, line?: string): void {
    if (this.state === 'closed') return;
    this.options.logger.warn(
      {
        event: 'peer-rejected',
        conn: this.id,
        remote: this.remote,
        peer: this.peer,
        reason,
        line: line?.slice(0, 200),
      },
      `peer port: connection ${this.id} from ${this.remote}${this.peer === undefined ? '' : ` (claiming to be ${this.peer})`} refused: ${reason}`,
    );
    this.destroy(`refused: ${reason}`);
  }

  /**
   * Writes one line (without terminator, a binary string) back to the neighbour over its link: a
   * PRUNE or a GRAFT. Returns false, writing nothing, unless the link is up.
   */
  reply(line: string): boolean {
    if (this.state !== 'up') return false;
    this.options.stream.write(`${line}\n`, 'latin1');
    this.detector?.sent();
    return true;
  }

  /** Closes the connection now. */
  destroy(reason: string): void {
    this.close(reason);
    this.options.stream.destroy();
  }

  /** Ends the connection gracefully (server shutdown). */
  end(): void {
    this.options.stream.end();
  }

  private close(reason: string): void {
    if (this.state === 'closed') return;
    this.status.set('closed', { reason });
    this.detector?.stop();
    this.options.timers.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.options.onClose?.(this, reason);
  }
}
