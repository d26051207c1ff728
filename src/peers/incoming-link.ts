/**
 * The accepted side of a link: one connection to the peer port (docs/protocol.md "Links"). Its first
 * line must be a valid HELLO from a neighbour, and with a herd secret the next must be the right
 * AUTH; anything else is logged and the connection closed, with no reply. Only then are its lines
 * taken: AT lines as floods (through `ingest`, newer wins), and anti-entropy offers answered by an
 * {@link AntiEntropyResponder}. Works on any duplex stream, so tests need no socket.
 */
import type { Duplex } from 'node:stream';
import type { Timers, TimerHandle } from '../core/timers.js';
import { fastLogOf, jsonString, type FastLog } from '../observability/fast-log.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';
import { atLineClientId, checkAtFields } from '../protocol/commands.js';
import { splitFields } from '../protocol/fields.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import type { LocationStore, LocationUpdate } from '../store/location-store.js';
import { AntiEntropyResponder } from './anti-entropy.js';
import { FailureDetector, HEARTBEAT_LINE, HEARTBEAT_TEXT } from './failure-detector.js';
import { answerHello, checkAuth, type LinkIdentity } from './handshake.js';

/** Where an incoming link is in its life. */
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
  readonly timers: Timers;
  readonly logger: Logger;
  readonly observer: ServerObserver;
  /** The table anti-entropy offers are compared with. */
  readonly store: LocationStore;
  /** Takes a record from the neighbour: stores it if newer, persists and floods it on; true when stored. */
  readonly ingest: (update: LocationUpdate, from: string) => boolean;
  /** Called once the neighbour has passed the handshake. */
  readonly onUp?: (link: IncomingLink) => void;
  /** Called once when the connection is gone. */
  readonly onClose?: (link: IncomingLink, reason: string) => void;
}

/** One accepted connection on the peer port, from handshake to close. */
export class IncomingLink {
  readonly id: number;
  readonly remote: string;
  private stateValue: IncomingLinkState = 'hello';
  private peer: string | undefined;
  private incarnationValue: string | undefined;
  private expectedAuthMac: string | undefined;
  private handshakeTimer: TimerHandle | undefined;
  private responder: AntiEntropyResponder | undefined;
  private detector: FailureDetector | undefined;
  private timedOutValue = false;
  private readonly options: IncomingLinkOptions;
  private readonly splitter: LineSplitter;
  private readonly fastLog: FastLog;
  /** The neighbour's name as JSON, for its flood log events. */
  private peerJson: string | undefined;

  constructor(options: IncomingLinkOptions) {
    this.options = options;
    this.id = options.id;
    this.remote = options.remote;
    this.fastLog = fastLogOf(options.logger);
    const { stream, timers } = options;
    this.splitter = new LineSplitter((line) => this.onLine(line), {
      maxLineBytes: options.maxLineBytes,
      onOverflow: () => this.refuse(`line over ${options.maxLineBytes} bytes`),
    });
    this.handshakeTimer = timers.setTimeout(
      () => this.refuse(this.stateValue === 'auth' ? 'no AUTH in time' : 'no HELLO in time'),
      options.handshakeTimeoutMs,
    );
    stream.on('data', (chunk: Buffer) => {
      this.detector?.received();
      this.splitter.push(chunk);
    });
    stream.on('end', () => {
      this.splitter.end();
      this.close('ended');
      stream.end();
    });
    stream.on('error', (error: Error) => this.close(`error: ${error.message}`));
    stream.on('close', () => this.close('closed'));
  }

  /** The handshake state; `up` once the neighbour is authenticated. */
  get state(): IncomingLinkState {
    return this.stateValue;
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

  private onLine(line: string): void {
    switch (this.stateValue) {
      case 'hello':
        this.onHello(line);
        return;
      case 'auth':
        if (checkAuth(line, this.expectedAuthMac as string)) this.becomeUp();
        else this.refuse(line.startsWith('AUTH') ? 'bad MAC' : 'no AUTH');
        return;
      case 'up':
        this.onPeerLine(line);
        return;
      case 'closed':
        return;
    }
  }

  private onHello(line: string): void {
    const { self, isNeighbour, stream } = this.options;
    const answer = answerHello(line, self, isNeighbour);
    if (!answer.ok) {
      this.peer = answer.peerName;
      this.refuse(answer.reason, line);
      return;
    }
    this.peer = answer.peerName;
    this.incarnationValue = answer.incarnation;
    stream.write(answer.reply);
    if (answer.expectedAuthMac === undefined) {
      this.becomeUp();
    } else {
      this.expectedAuthMac = answer.expectedAuthMac;
      this.stateValue = 'auth';
    }
  }

  private becomeUp(): void {
    const { timers, logger, store, stream, self } = this.options;
    timers.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.expectedAuthMac = undefined;
    this.stateValue = 'up';
    const peerName = this.peer as string;
    this.responder = new AntiEntropyResponder({
      peerName,
      store,
      send: (text) => {
        stream.write(text);
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

  private onPeerLine(line: string): void {
    const peerName = this.peer as string;
    const { logger, store } = this.options;
    // The commonest flood is an update already held, arriving by a second path: the same AT line as
    // the stored one. It is stale whatever else holds, so it needs no parsing (the stored line was
    // validated when it was taken).
    const heldId = atLineClientId(line);
    if (heldId !== undefined && store.atLineOf(heldId) === line) {
      this.noteFlood(false, peerName, heldId, line);
      return;
    }
    const fields = splitFields(line);
    if (fields[0] !== 'AT') {
      if (fields.length > 0 && line !== HEARTBEAT_LINE && this.responder?.onMessage(fields) !== true) {
        logger.error(
          { event: 'peer-line-malformed', peer: peerName, line: line.slice(0, 200) },
          `malformed line from ${peerName}`,
        );
      }
      return;
    }
    const message = checkAtFields(fields, line);
    if (message === undefined) {
      logger.error(
        { event: 'flood-malformed', peer: peerName, line: line.slice(0, 200) },
        `malformed line from ${peerName}`,
      );
      return;
    }
    const stored = this.options.ingest({ clientId: message.clientId, atLine: message.line }, peerName);
    if (stored) this.responder?.noteStored();
    this.noteFlood(stored, peerName, message.clientId, message.line);
  }

  /** One log event and one metric per flood taken from the link. */
  private noteFlood(stored: boolean, peerName: string, clientId: string, atLine: string): void {
    this.options.observer.flood(stored ? 'stored' : 'stale', peerName, 1);
    const log = this.fastLog;
    if (!log.enabled) return;
    this.peerJson ??= jsonString(peerName);
    log.info(
      `,"event":"${stored ? 'flood-stored' : 'flood-stale'}","peer":${this.peerJson},"clientId":${jsonString(clientId)},"line":${jsonString(atLine)}`,
      stored ? '"flood stored"' : '"flood ignored as stale"',
    );
  }

  // Issue 12: the accepted side, too, closes a link that went silent (src/peers/failure-detector.ts).
  private watch(peerName: string): void {
    const { timers, logger, stream } = this.options;
    const deadAfterMs = this.options.deadAfterMs;
    this.detector = new FailureDetector({
      timers,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
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
    if (this.stateValue === 'closed') return;
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
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.detector?.stop();
    this.options.timers.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.options.onClose?.(this, reason);
  }
}
