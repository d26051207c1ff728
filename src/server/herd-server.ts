/**
 * One member of the herd: a TCP server for clients and neighbours, the location store, the outgoing
 * links, and flooding (PROTOCOL.md sections 2 and 3).
 */
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import { formatGoogleJson } from '../protocol/google-json.js';
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/line-splitter.js';
import {
  formatAt,
  formatInvalidReply,
  formatWhatsatReply,
  parseAtFields,
  parseClientCommand,
  type IamatCommand,
  type WhatsatCommand,
} from '../protocol/commands.js';
import { SystemWallClock, type WallClock } from '../protocol/time.js';
import { exponentialBackoff, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS } from '../peers/backoff.js';
import { PeerLink, HANDSHAKE_TIMEOUT_MS, MAX_QUEUED_UPDATES, type PeerAddress } from '../peers/peer-link.js';
import {
  formatDigestLines,
  formatWantLines,
  formatWelcome,
  handshakeMac,
  macsEqual,
  newNonce,
  parseAuth,
  parseGreeting,
  parseSyncMessage,
} from '../peers/peer-protocol.js';
import { splitFields } from '../protocol/fields.js';
import { failedNearbySearch, type NearbySearchResponse, type PlacesProvider } from '../places/provider.js';
import { PlacesError } from '../errors.js';
import { digestBucketsFor, LocationStore, type LocationRecord } from '../store/location-store.js';
import { Connection, type ConnectionHandler, type Reply } from './connection.js';
import {
  NOOP_OBSERVER,
  type CommandKind,
  type CommandOutcome,
  type ServerObserver,
} from '../observability/observer.js';

/** Default {@link ServerLimits.maxPendingOutputBytes}: 256 KiB. */
export const MAX_PENDING_OUTPUT_BYTES = 256 * 1024;
/** Default {@link ServerLimits.placesTimeoutMs}: a WHATSAT is answered within this even if its source hangs. */
export const PLACES_TIMEOUT_MS = 10_000;
/** Default {@link ServerLimits.maxClientIdBytes}. */
export const MAX_CLIENT_ID_BYTES = 256;
/** Default {@link ServerLimits.maxConnections}. */
export const MAX_CONNECTIONS = 10_000;
/** Default {@link ServerLimits.maxConnectionsPerAddress}. */
export const MAX_CONNECTIONS_PER_ADDRESS = 1_000;
/** Default {@link ServerLimits.idleTimeoutMs}: 5 minutes. */
export const IDLE_TIMEOUT_MS = 300_000;
/** Default {@link ServerLimits.maxPendingReplies}. */
export const MAX_PENDING_REPLIES = 1024;
/** Default {@link ServerLimits.slowReaderTimeoutMs}. */
export const SLOW_READER_TIMEOUT_MS = 30_000;
/** Default {@link ServerLimits.shutdownGraceMs}. */
export const SHUTDOWN_GRACE_MS = 5_000;
/** Default {@link ServerLimits.maxFutureSkewMs}: one day. */
export const MAX_FUTURE_SKEW_MS = 86_400_000;
/** Default {@link LinkSettings.antiEntropyIntervalMs}: 30 s. */
export const ANTI_ENTROPY_INTERVAL_MS = 30_000;
/** A reconciliation not finished within this is abandoned (the next one starts afresh), ms. */
export const SYNC_TIMEOUT_MS = 60_000;

/** Limits of a server; each has a default. */
export interface ServerLimits {
  /**
   * Longest line, bytes. A longer one gets one `? ` with its first `maxLineBytes` bytes and the
   * connection is closed; memory stays bounded however long it grows. @default {@link DEFAULT_MAX_LINE_BYTES} (4 KiB)
   */
  maxLineBytes: number;
  /** Longest client id, bytes (UTF-8); a longer one gets `? `. @default {@link MAX_CLIENT_ID_BYTES} */
  maxClientIdBytes: number;
  /** Most connections open at once (clients and incoming links); more are closed at accept. @default {@link MAX_CONNECTIONS} */
  maxConnections: number;
  /** Most connections open at once from one remote IP address. @default {@link MAX_CONNECTIONS_PER_ADDRESS} */
  maxConnectionsPerAddress: number;
  /** A client connection silent (nothing received, nothing pending) this long is closed, ms. @default {@link IDLE_TIMEOUT_MS} */
  idleTimeoutMs: number;
  /** Unwritten reply bytes at which a connection stops reading. @default {@link MAX_PENDING_OUTPUT_BYTES} */
  maxPendingOutputBytes: number;
  /** Replies waiting to be written at which a connection stops reading. @default {@link MAX_PENDING_REPLIES} */
  maxPendingReplies: number;
  /** A connection whose reader leaves its output full this long is dropped, ms. @default {@link SLOW_READER_TIMEOUT_MS} */
  slowReaderTimeoutMs: number;
  /** On shutdown, longest wait for replies due to be written before connections are cut, ms. @default {@link SHUTDOWN_GRACE_MS} */
  shutdownGraceMs: number;
  /** Longest wait for the places source, ms; then `UNKNOWN_ERROR`. @default {@link PLACES_TIMEOUT_MS} */
  placesTimeoutMs: number;
  /**
   * How far a client's time may be ahead of the server's clock, ms. An IAMAT further in the future
   * gets `? ` (it would otherwise pin the client's location until that time). @default {@link MAX_FUTURE_SKEW_MS}
   */
  maxFutureSkewMs: number;
}

/** Settings of the outgoing links. */
export interface LinkSettings {
  /** @default {@link RECONNECT_BASE_DELAY_MS} */
  reconnectBaseDelayMs: number;
  /** @default {@link RECONNECT_MAX_DELAY_MS} */
  reconnectMaxDelayMs: number;
  /** @default {@link HANDSHAKE_TIMEOUT_MS} */
  handshakeTimeoutMs: number;
  /** @default {@link MAX_QUEUED_UPDATES} */
  maxQueuedUpdates: number;
  /** Mean interval of periodic anti-entropy per link, ms (each run is jittered by +-20%). @default {@link ANTI_ENTROPY_INTERVAL_MS} */
  antiEntropyIntervalMs: number;
}

/** Where stored records are made durable (the SQLite log, or nothing). */
export interface LocationPersistence {
  /** Buffers a stored record for the next commit. */
  write(record: LocationRecord): void;
  /** Resolves when everything written so far is committed; rejects if that commit fails. */
  whenCommitted(): Promise<void>;
}

/** Everything a {@link HerdServer} needs. */
export interface HerdServerOptions {
  /** The server's name (in AT replies and greetings). */
  readonly name: string;
  /** Interface to listen on. */
  readonly host: string;
  /** TCP port; 0 picks a free one (read it back from {@link HerdServer.listen}). */
  readonly port: number;
  /** Names of the neighbours this server dials and accepts links from. */
  readonly neighbours: readonly string[];
  /** Where neighbours listen, as far as known; more can be given later with {@link HerdServer.setPeerAddress}. */
  readonly peerAddresses?: ReadonlyMap<string, PeerAddress>;
  readonly places: PlacesProvider;
  readonly logger: Logger;
  /** @default {@link SystemWallClock} */
  readonly clock?: WallClock;
  /** Token that changes at every start, sent to neighbours. @default POSIX ms and 4 random bytes */
  readonly incarnation?: string;
  readonly limits?: Partial<ServerLimits>;
  readonly links?: Partial<LinkSettings>;
  /** Records to start with (read from the durable store); loaded without flooding. */
  readonly initialRecords?: Iterable<LocationRecord>;
  /** Where stored records go to be durable. @default none (memory only) */
  readonly persistence?: LocationPersistence;
  /** Acknowledge an IAMAT only once its update is committed to `persistence`. @default false */
  readonly syncCommit?: boolean;
  /** Receives counts and latencies for metrics. @default {@link NOOP_OBSERVER} */
  readonly observer?: ServerObserver;
  /**
   * The herd secret that authenticates links (HMAC challenge-response, src/peers/peer-protocol.ts).
   * @default none: development mode, links are not authenticated
   */
  readonly secret?: Buffer;
  /** TLS for the listener (clients and incoming links) and for outgoing links. @default plain TCP */
  readonly tls?: { readonly server: tls.SecureContextOptions; readonly client: tls.ConnectionOptions };
}

/** Peer handshake state of a connection that sent HELLO and must still prove itself with AUTH. */
interface PendingAuth {
  readonly peerName: string;
  readonly incarnation: string;
  readonly expectedMac: string;
  readonly timer: NodeJS.Timeout;
}

/** See {@link HerdServer.status}. */
export interface ServerStatus {
  readonly name: string;
  readonly incarnation: string;
  /** Milliseconds since the server started listening. */
  readonly uptimeMs: number;
  /** Client ids held in the location store. */
  readonly clients: number;
  /** Open connections, clients and incoming links. */
  readonly connections: number;
  readonly placesSource: string;
  /** One entry per neighbour: the state of this server's outgoing link to it. */
  readonly links: readonly { peer: string; status: string; queued: number; dropped: number; connects: number }[];
}

/** Dialler side of a reconciliation in progress on one outgoing link. */
interface OutgoingSync {
  readonly id: number;
  readonly buckets: number;
  readonly wanted: Set<number>;
  readonly startedMs: number;
}

/** Neighbour side of a reconciliation, per incoming link connection. */
interface IncomingSync {
  id: number;
  buckets: number;
  high: Uint32Array;
  low: Uint32Array;
  startedMs: number;
  stored: number;
}

/** The outcome a reply shows: `?` for an invalid command, unless the reason is more specific. */
function outcomeOf(kind: CommandKind, reply: string): CommandOutcome {
  if (!reply.startsWith('? ')) return 'ok';
  if (kind === 'WHATSAT') return 'unknown_client';
  if (kind === 'IAMAT') return 'clock_skew';
  return 'invalid';
}

/** A herd member. Create, {@link listen}, and {@link close} when done. */
export class HerdServer {
  readonly name: string;
  readonly incarnation: string;
  readonly store = new LocationStore();
  private readonly options: HerdServerOptions;
  private readonly log: Logger;
  private readonly clock: WallClock;
  private readonly limits: ServerLimits;
  private readonly links = new Map<string, PeerLink>();
  private readonly connections = new Set<Connection>();
  private readonly sockets = new Set<net.Socket>();
  private readonly connectionsPerAddress = new Map<string, number>();
  private readonly handler: ConnectionHandler;
  private readonly commands: {
    IAMAT: (command: IamatCommand, line: string) => Reply;
    WHATSAT: (command: WhatsatCommand, line: string) => Reply;
  };
  private server: net.Server | undefined;
  private nextConnectionId = 1;
  private nextSyncId = 1;
  private readonly linkSettings: LinkSettings;
  private readonly outgoingSyncs = new Map<string, OutgoingSync>();
  private readonly incomingSyncs = new WeakMap<Connection, IncomingSync>();
  private readonly syncTimers = new Map<string, NodeJS.Timeout>();
  /** Last incarnation each neighbour announced, to tell a restart from a reconnect. */
  private readonly peerIncarnations = new Map<string, string>();
  private readonly observer: ServerObserver;
  /** POSIX ms when the server started listening. */
  startedAtMs = 0;

  constructor(options: HerdServerOptions) {
    this.options = options;
    this.name = options.name;
    this.incarnation = options.incarnation ?? `${Date.now()}-${randomBytes(4).toString('hex')}`;
    this.log = options.logger;
    this.observer = options.observer ?? NOOP_OBSERVER;
    this.clock = options.clock ?? new SystemWallClock();
    this.limits = {
      maxLineBytes: options.limits?.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      maxClientIdBytes: options.limits?.maxClientIdBytes ?? MAX_CLIENT_ID_BYTES,
      maxConnections: options.limits?.maxConnections ?? MAX_CONNECTIONS,
      maxConnectionsPerAddress: options.limits?.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS,
      idleTimeoutMs: options.limits?.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
      maxPendingOutputBytes: options.limits?.maxPendingOutputBytes ?? MAX_PENDING_OUTPUT_BYTES,
      maxPendingReplies: options.limits?.maxPendingReplies ?? MAX_PENDING_REPLIES,
      slowReaderTimeoutMs: options.limits?.slowReaderTimeoutMs ?? SLOW_READER_TIMEOUT_MS,
      shutdownGraceMs: options.limits?.shutdownGraceMs ?? SHUTDOWN_GRACE_MS,
      placesTimeoutMs: options.limits?.placesTimeoutMs ?? PLACES_TIMEOUT_MS,
      maxFutureSkewMs: options.limits?.maxFutureSkewMs ?? MAX_FUTURE_SKEW_MS,
    };
    const linkSettings: LinkSettings = {
      reconnectBaseDelayMs: options.links?.reconnectBaseDelayMs ?? RECONNECT_BASE_DELAY_MS,
      reconnectMaxDelayMs: options.links?.reconnectMaxDelayMs ?? RECONNECT_MAX_DELAY_MS,
      handshakeTimeoutMs: options.links?.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      maxQueuedUpdates: options.links?.maxQueuedUpdates ?? MAX_QUEUED_UPDATES,
      antiEntropyIntervalMs: options.links?.antiEntropyIntervalMs ?? ANTI_ENTROPY_INTERVAL_MS,
    };
    this.linkSettings = linkSettings;
    for (const record of options.initialRecords ?? []) this.store.offer(record);
    const backoff = exponentialBackoff({
      baseDelayMs: linkSettings.reconnectBaseDelayMs,
      maxDelayMs: linkSettings.reconnectMaxDelayMs,
    });
    for (const peerName of options.neighbours) {
      this.links.set(
        peerName,
        new PeerLink({
          localName: this.name,
          incarnation: this.incarnation,
          peerName,
          backoff,
          logger: this.log,
          handshakeTimeoutMs: linkSettings.handshakeTimeoutMs,
          maxQueuedUpdates: linkSettings.maxQueuedUpdates,
          onUp: (incarnation) => this.onLinkUp(peerName, incarnation),
          onMessage: (line) => this.onLinkMessage(peerName, line),
          onStatus: (status) => this.observer.linkStatus(peerName, status),
          secret: options.secret,
          tls: options.tls?.client,
          onSent: (lines) => this.observer.flood('sent', peerName, lines),
        }),
      );
    }
    // One handler per command, dispatched from one table.
    this.commands = {
      IAMAT: (command, line) => this.iamat(command, line),
      WHATSAT: (command, line) => this.whatsat(command, line),
    };
    this.handler = {
      onLine: (connection, line) => this.onLine(connection, line),
      fallback: (line, error) => {
        this.log.error({ event: 'reply-failed', line, err: String(error) }, 'reply failed; answering ?');
        return formatInvalidReply(line);
      },
      onOverflow: (connection, prefix) => {
        this.log.warn(
          { event: 'line-too-long', conn: connection.id, maxLineBytes: this.limits.maxLineBytes },
          `line over ${this.limits.maxLineBytes} bytes; closing connection`,
        );
        return formatInvalidReply(prefix);
      },
      onSlowReader: (connection, event) => {
        const message =
          event === 'paused'
            ? `connection ${connection.id} does not read its replies (over ${this.limits.maxPendingOutputBytes} bytes unwritten); stopped reading it`
            : `connection ${connection.id} did not read for ${this.limits.slowReaderTimeoutMs} ms; dropped`;
        this.log.warn(
          { event: `slow-reader-${event}`, conn: connection.id, remote: connection.remote, kind: connection.kind },
          message,
        );
      },
      onClose: (connection, reason) => {
        this.connections.delete(connection);
        const pending = connection.handshake as PendingAuth | undefined;
        if (pending !== undefined) clearTimeout(pending.timer);
        this.observer.connection(connection.kind, 'close');
        this.log.info(
          {
            event: 'connection-closed',
            conn: connection.id,
            remote: connection.remote,
            kind: connection.kind,
            peer: connection.peerName,
            reason,
          },
          `${connection.kind} connection ${connection.id} closed`,
        );
      },
    };
  }

  /**
   * A snapshot of the server's state, as `/status` serves it: `{ name, incarnation, uptimeMs,
   * clients, connections, placesSource, links: [{ peer, status, queued, dropped, connects }] }`.
   */
  status(): ServerStatus {
    return {
      name: this.name,
      incarnation: this.incarnation,
      uptimeMs: this.startedAtMs === 0 ? 0 : Date.now() - this.startedAtMs,
      clients: this.store.size,
      connections: this.connections.size,
      placesSource: this.options.places.source,
      links: [...this.links].map(([peer, link]) => ({
        peer,
        status: link.status,
        queued: link.queuedUpdates,
        dropped: link.droppedUpdates,
        connects: link.connects,
      })),
    };
  }

  /** The outgoing link to each neighbour, by name. */
  get peerLinks(): ReadonlyMap<string, PeerLink> {
    return this.links;
  }

  /**
   * Starts listening and dials every neighbour whose address is known.
   *
   * @returns the bound address (the real port when the configured one is 0).
   * @throws the `listen` error (e.g. `EADDRINUSE`), with the server left closed.
   */
  async listen(): Promise<net.AddressInfo> {
    const tlsOptions = this.options.tls;
    const server =
      tlsOptions === undefined
        ? net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket))
        : tls.createServer({ ...tlsOptions.server, allowHalfOpen: true }, (socket) => this.accept(socket));
    if (tlsOptions !== undefined) {
      server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) =>
        this.log.warn(
          {
            event: 'tls-error',
            remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
            err: error.message,
          },
          `TLS handshake failed: ${error.message}`,
        ),
      );
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error: Error) => this.log.error({ event: 'server-error', err: error.message }, 'server error'));
    const address = server.address() as net.AddressInfo;
    this.startedAtMs = Date.now();
    this.log.info(
      { event: 'listening', host: address.address, port: address.port, incarnation: this.incarnation },
      `${this.name} listening on ${address.address}:${address.port}`,
    );
    for (const [peerName, address] of this.options.peerAddresses ?? []) this.setPeerAddress(peerName, address);
    return address;
  }

  /** Tells the server where neighbour `peerName` listens; its link dials it. Unknown names are ignored. */
  setPeerAddress(peerName: string, address: PeerAddress): void {
    if (address.port === 0) return;
    this.links.get(peerName)?.setAddress(address);
  }

  private accept(socket: net.Socket): void {
    const address = socket.remoteAddress ?? '?';
    const remote = `${address}:${socket.remotePort ?? '?'}`;
    const fromAddress = this.connectionsPerAddress.get(address) ?? 0;
    if (this.connections.size >= this.limits.maxConnections || fromAddress >= this.limits.maxConnectionsPerAddress) {
      const which =
        this.connections.size >= this.limits.maxConnections
          ? `maxConnections (${this.limits.maxConnections})`
          : `maxConnectionsPerAddress (${this.limits.maxConnectionsPerAddress}) for ${address}`;
      this.log.warn(
        { event: 'connection-refused', remote, open: this.connections.size, fromAddress },
        `refused connection from ${remote}: ${which} reached`,
      );
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.connectionsPerAddress.set(address, fromAddress + 1);
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      const left = (this.connectionsPerAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.connectionsPerAddress.delete(address);
      else this.connectionsPerAddress.set(address, left);
    });
    const connection = this.handleConnection(socket, remote);
    // Idle clients are closed; links stay up (they carry keep-alives and periodic anti-entropy).
    socket.setTimeout(this.limits.idleTimeoutMs, () => {
      if (connection.kind === 'peer' || connection.pendingReplies > 0) return;
      this.log.info(
        { event: 'idle-timeout', conn: connection.id, remote, idleTimeoutMs: this.limits.idleTimeoutMs },
        `connection ${connection.id} idle for ${this.limits.idleTimeoutMs} ms; closing`,
      );
      connection.finish();
    });
  }

  /**
   * Serves one connection over any duplex stream (a socket, or a `duplexPair()` end in tests).
   *
   * @param remote - a label for the remote end in logs.
   */
  handleConnection(stream: Duplex, remote: string): Connection {
    const connection = new Connection(this.nextConnectionId++, remote, stream, this.handler, this.limits);
    this.connections.add(connection);
    this.observer.connection('client', 'open');
    this.log.info(
      { event: 'connection-new', conn: connection.id, remote },
      `connection ${connection.id} from ${remote}`,
    );
    return connection;
  }

  private onLine(connection: Connection, line: string): Reply | undefined {
    if (connection.kind === 'peer') {
      this.onPeerLine(connection, line);
      return undefined;
    }
    if (connection.handshake !== undefined) return this.completePeerHandshake(connection, line);
    const command = parseClientCommand(line);
    if (command === undefined) return undefined;
    const started = performance.now();
    let reply: Reply;
    let kind: CommandKind;
    let reason: string | undefined;
    if (command.kind !== 'INVALID' && Buffer.byteLength(command.clientId) > this.limits.maxClientIdBytes) {
      kind = command.kind;
      reason = `client id over maxClientIdBytes (${this.limits.maxClientIdBytes})`;
      reply = formatInvalidReply(line);
    } else if (command.kind === 'IAMAT') {
      kind = 'IAMAT';
      reply = this.commands.IAMAT(command, line);
    } else if (command.kind === 'WHATSAT') {
      kind = 'WHATSAT';
      reply = this.commands.WHATSAT(command, line);
    } else {
      const greeting = connection.pendingReplies === 0 ? parseGreeting(line) : undefined;
      if (
        greeting?.verb === 'HELLO' &&
        this.acceptPeer(connection, greeting.serverName, greeting.incarnation, greeting.nonce)
      )
        return undefined;
      kind = 'INVALID';
      reason = command.reason;
      reply = formatInvalidReply(line);
    }
    // One log event per command, with the line in and the reply out (PROTOCOL.md section 4).
    if (typeof reply === 'string') {
      this.observer.command(kind, outcomeOf(kind, reply), performance.now() - started);
      this.log.info({ event: 'command', conn: connection.id, line, reply: reply.slice(0, -1), reason }, kind);
      return reply;
    }
    return reply.then(
      (text) => {
        this.observer.command(kind, outcomeOf(kind, text), performance.now() - started);
        this.log.info(
          {
            event: 'command',
            conn: connection.id,
            line,
            reply: text.slice(0, text.indexOf('\n')),
            bytes: Buffer.byteLength(text),
          },
          kind,
        );
        return text;
      },
      (error: unknown) => {
        this.observer.command(kind, 'error', performance.now() - started);
        throw error;
      },
    );
  }

  /**
   * Handles a HELLO. Without a herd secret the connection becomes a link at once. With one, the
   * neighbour must answer our challenge with AUTH before any of its lines is taken as a flood.
   *
   * @returns false when the HELLO is refused (it is then answered as an invalid command).
   */
  private acceptPeer(
    connection: Connection,
    peerName: string,
    incarnation: string,
    nonce: string | undefined,
  ): boolean {
    const link = this.links.get(peerName);
    if (link === undefined) {
      this.log.warn(
        { event: 'peer-rejected', conn: connection.id, peer: peerName, reason: 'not a neighbour' },
        `HELLO from ${peerName}, which is not a neighbour`,
      );
      return false;
    }
    const secret = this.options.secret;
    if (secret === undefined) {
      connection.writeRaw(formatWelcome(this.name, this.incarnation));
      this.promoteToPeer(connection, peerName, incarnation);
      return true;
    }
    if (nonce === undefined) {
      this.log.warn(
        { event: 'peer-rejected', conn: connection.id, peer: peerName, reason: 'no challenge' },
        `HELLO from ${peerName} without a challenge, but this herd requires authentication`,
      );
      return false;
    }
    const ownNonce = newNonce();
    const mac = handshakeMac(secret, 'WELCOME', this.name, peerName, nonce, ownNonce, this.incarnation);
    const pending: PendingAuth = {
      peerName,
      incarnation,
      expectedMac: handshakeMac(secret, 'AUTH', peerName, this.name, ownNonce, nonce, incarnation),
      timer: setTimeout(() => {
        this.log.warn(
          { event: 'peer-rejected', conn: connection.id, peer: peerName, reason: 'no AUTH in time' },
          `${peerName} did not authenticate in time`,
        );
        connection.destroy('handshake timeout');
      }, this.linkSettings.handshakeTimeoutMs),
    };
    connection.handshake = pending;
    connection.writeRaw(formatWelcome(this.name, this.incarnation, { nonce: ownNonce, mac }));
    return true;
  }

  /** The line after an authenticated HELLO: must be the right AUTH, else `? ` and the connection ends. */
  private completePeerHandshake(connection: Connection, line: string): Reply | undefined {
    const pending = connection.handshake as PendingAuth;
    connection.handshake = undefined;
    clearTimeout(pending.timer);
    const mac = parseAuth(line);
    if (mac !== undefined && macsEqual(pending.expectedMac, mac)) {
      this.promoteToPeer(connection, pending.peerName, pending.incarnation);
      return undefined;
    }
    this.log.warn(
      {
        event: 'peer-rejected',
        conn: connection.id,
        peer: pending.peerName,
        remote: connection.remote,
        reason: mac === undefined ? 'no AUTH' : 'bad MAC',
      },
      `link from ${connection.remote} claiming to be ${pending.peerName} failed authentication`,
    );
    this.observer.command('INVALID', 'invalid', 0);
    connection.finish();
    return formatInvalidReply(line);
  }

  private promoteToPeer(connection: Connection, peerName: string, incarnation: string): void {
    connection.kind = 'peer';
    connection.peerName = peerName;
    // Counted as a client when it opened; it turned out to be a peer.
    this.observer.connection('client', 'close');
    this.observer.connection('peer', 'open');
    this.log.info(
      {
        event: 'peer-connected',
        conn: connection.id,
        peer: peerName,
        incarnation,
        remote: connection.remote,
        authenticated: this.options.secret !== undefined,
      },
      `link from ${peerName} up`,
    );
    this.noteIncarnation(peerName, incarnation);
    // The neighbour is evidently back: do not wait out our own backoff towards it.
    this.links.get(peerName)?.redialNow();
  }

  private iamat(command: IamatCommand, line: string): Reply {
    const receivedNs = this.clock.nowNs();
    if (command.timeNs - receivedNs > BigInt(this.limits.maxFutureSkewMs) * 1_000_000n) {
      this.log.warn(
        {
          event: 'clock-skew-rejected',
          clientId: command.clientId,
          time: command.timeText,
          maxFutureSkewMs: this.limits.maxFutureSkewMs,
        },
        `IAMAT time ${command.timeText} is more than ${this.limits.maxFutureSkewMs} ms ahead of this server's clock; rejected`,
      );
      return formatInvalidReply(line);
    }
    const atLine = formatAt(this.name, receivedNs - command.timeNs, command);
    const record: LocationRecord = {
      clientId: command.clientId,
      timeNs: command.timeNs,
      atLine,
      latitude: command.latitude,
      longitude: command.longitude,
    };
    // The reply acknowledges the IAMAT even when a newer location is already held (PROTOCOL.md 2).
    if (this.store.offer(record)) {
      this.options.persistence?.write(record);
      this.flood(record, undefined);
    }
    const reply = `${atLine}\n`;
    if (this.options.syncCommit === true && this.options.persistence !== undefined) {
      return this.options.persistence.whenCommitted().then(() => reply);
    }
    return reply;
  }

  private whatsat(command: WhatsatCommand, line: string): Reply {
    const record = this.store.get(command.clientId);
    if (record === undefined) {
      this.log.info(
        { event: 'invalid-command', reason: 'unknown client id', clientId: command.clientId },
        'WHATSAT for an unknown client',
      );
      return formatInvalidReply(line);
    }
    return this.lookUpPlaces(record, command.radiusKm * 1000, command.bound).then((response) =>
      formatWhatsatReply(record.atLine, formatGoogleJson(response)),
    );
  }

  private async lookUpPlaces(
    record: LocationRecord,
    radiusMeters: number,
    limit: number,
  ): Promise<NearbySearchResponse> {
    const places = this.options.places;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let response: NearbySearchResponse;
    try {
      response = await Promise.race([
        places.nearby({ latitude: record.latitude, longitude: record.longitude }, radiusMeters, limit),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new PlacesError(
                  'UNKNOWN_ERROR',
                  `places source ${places.source} did not answer within ${this.limits.placesTimeoutMs} ms`,
                ),
              ),
            this.limits.placesTimeoutMs,
          );
        }),
      ]);
    } catch (error) {
      const status = error instanceof PlacesError ? error.status : 'UNKNOWN_ERROR';
      const message = error instanceof Error ? error.message : String(error);
      response = failedNearbySearch(status as 'UNKNOWN_ERROR', message);
    } finally {
      clearTimeout(timer);
    }
    if (response.results.length > limit) response = { ...response, results: response.results.slice(0, limit) };
    const ms = Math.round((performance.now() - started) * 1000) / 1000;
    this.observer.placesLookup(places.source, response.status, performance.now() - started);
    const level = response.status === 'OK' || response.status === 'ZERO_RESULTS' ? 'info' : 'warn';
    this.log[level](
      {
        event: 'places',
        source: places.source,
        clientId: record.clientId,
        radiusMeters,
        limit,
        status: response.status,
        results: response.results.length,
        ms,
        error: response.error_message,
      },
      `places ${response.status} in ${ms} ms`,
    );
    return response;
  }

  /** Sends a stored record to every neighbour except the one it came from. */
  private flood(record: LocationRecord, from: string | undefined): void {
    for (const [peerName, link] of this.links) {
      if (peerName !== from) link.send(record.atLine);
    }
  }

  private receiveFlood(from: string, line: string, fields: readonly string[]): boolean {
    const message = parseAtFields(fields);
    if (message === undefined) {
      this.log.error({ event: 'flood-malformed', peer: from, line }, `malformed line from ${from}`);
      return false;
    }
    const record: LocationRecord = {
      clientId: message.clientId,
      timeNs: message.timeNs,
      atLine: message.line,
      latitude: message.latitude,
      longitude: message.longitude,
    };
    if (this.store.offer(record)) {
      this.log.info(
        { event: 'flood-stored', peer: from, clientId: record.clientId, line: record.atLine },
        'flood stored',
      );
      this.observer.flood('stored', from, 1);
      this.options.persistence?.write(record);
      this.flood(record, from);
      return true;
    }
    this.log.info(
      { event: 'flood-stale', peer: from, clientId: record.clientId, line: record.atLine },
      'flood ignored as stale',
    );
    this.observer.flood('stale', from, 1);
    return false;
  }

  private noteIncarnation(peerName: string, incarnation: string): void {
    const previous = this.peerIncarnations.get(peerName);
    this.peerIncarnations.set(peerName, incarnation);
    if (previous !== undefined && previous !== incarnation) {
      this.log.info(
        { event: 'peer-restarted', peer: peerName, previous, incarnation },
        `${peerName} restarted (incarnation ${previous} -> ${incarnation}); reconciling`,
      );
    }
  }

  // --- Anti-entropy, dialler side: offer our digest on every link-up and periodically. ---

  private onLinkUp(peerName: string, incarnation: string): void {
    this.noteIncarnation(peerName, incarnation);
    this.outgoingSyncs.delete(peerName);
    this.startSync(peerName);
  }

  private scheduleSync(peerName: string): void {
    clearTimeout(this.syncTimers.get(peerName));
    if (this.server === undefined) return;
    const delay = this.linkSettings.antiEntropyIntervalMs * (0.8 + 0.4 * Math.random());
    const timer = setTimeout(() => this.startSync(peerName), delay);
    timer.unref();
    this.syncTimers.set(peerName, timer);
  }

  /** Offers this server's digest to `peerName` over its outgoing link (no-op unless the link is up). */
  startSync(peerName: string): void {
    const link = this.links.get(peerName);
    if (link === undefined || link.status !== 'up' || this.server === undefined) return;
    const running = this.outgoingSyncs.get(peerName);
    if (running !== undefined && Date.now() - running.startedMs < SYNC_TIMEOUT_MS) {
      this.scheduleSync(peerName);
      return;
    }
    const buckets = digestBucketsFor(this.store.size);
    const sync: OutgoingSync = { id: this.nextSyncId++, buckets, wanted: new Set(), startedMs: Date.now() };
    this.outgoingSyncs.set(peerName, sync);
    const lines = formatDigestLines(sync.id, this.store.digest(buckets));
    for (const line of lines) link.send(line);
    this.log.info(
      { event: 'anti-entropy-offer', peer: peerName, syncId: sync.id, buckets, records: this.store.size },
      `anti-entropy: offered digest of ${buckets} buckets to ${peerName}`,
    );
    this.scheduleSync(peerName);
  }

  private onLinkMessage(peerName: string, line: string): void {
    const message = parseSyncMessage(splitFields(line));
    const sync = this.outgoingSyncs.get(peerName);
    if (message === undefined || sync === undefined || message.syncId !== sync.id) {
      if (message === undefined)
        this.log.warn({ event: 'peer-line-ignored', peer: peerName, line }, `unexpected line from ${peerName}`);
      return;
    }
    if (message.verb === 'WANT') {
      for (const bucket of message.buckets) if (bucket < sync.buckets) sync.wanted.add(bucket);
    } else if (message.verb === 'WANT-END') {
      this.outgoingSyncs.delete(peerName);
      const records = this.store.recordsInBuckets(sync.buckets, sync.wanted);
      const link = this.links.get(peerName);
      for (const record of records) link?.send(record.atLine);
      link?.send(`SYNCED ${sync.id} ${records.length}`);
      this.observer.antiEntropy(peerName, records.length);
      this.log.info(
        {
          event: 'anti-entropy-send',
          peer: peerName,
          syncId: sync.id,
          buckets: sync.buckets,
          wantedBuckets: sync.wanted.size,
          records: records.length,
          ms: Date.now() - sync.startedMs,
        },
        `anti-entropy: ${peerName} wanted ${sync.wanted.size} of ${sync.buckets} buckets; sent ${records.length} records`,
      );
    }
  }

  // --- Anti-entropy, neighbour side: compare the offered digest with ours and ask for differences. ---

  private onPeerLine(connection: Connection, line: string): void {
    const peerName = connection.peerName as string;
    const fields = splitFields(line);
    if (fields[0] === 'AT') {
      const stored = this.receiveFlood(peerName, line, fields);
      const sync = this.incomingSyncs.get(connection);
      if (stored && sync !== undefined) sync.stored++;
      return;
    }
    const message = parseSyncMessage(fields);
    if (message === undefined) {
      this.log.error(
        { event: 'peer-line-malformed', peer: peerName, line: line.slice(0, 200) },
        `malformed line from ${peerName}`,
      );
      return;
    }
    if (message.verb === 'SYNC') {
      this.incomingSyncs.set(connection, {
        id: message.syncId,
        buckets: message.buckets,
        high: new Uint32Array(message.buckets),
        low: new Uint32Array(message.buckets),
        startedMs: Date.now(),
        stored: 0,
      });
      return;
    }
    const sync = this.incomingSyncs.get(connection);
    if (sync === undefined || sync.id !== message.syncId) return;
    if (message.verb === 'SUMS') {
      for (let i = 0; i < message.high.length && message.start + i < sync.buckets; i++) {
        sync.high[message.start + i] = message.high[i] as number;
        sync.low[message.start + i] = message.low[i] as number;
      }
    } else if (message.verb === 'SUMS-END') {
      const ours = this.store.digest(sync.buckets);
      const wanted: number[] = [];
      for (let i = 0; i < sync.buckets; i++) {
        const theirsEmpty = sync.high[i] === 0 && sync.low[i] === 0;
        if (!theirsEmpty && (sync.high[i] !== ours.high[i] || sync.low[i] !== ours.low[i])) wanted.push(i);
      }
      connection.writeRaw(`${formatWantLines(sync.id, wanted).join('\n')}\n`);
      this.log.info(
        {
          event: 'anti-entropy-want',
          peer: peerName,
          syncId: sync.id,
          buckets: sync.buckets,
          wantedBuckets: wanted.length,
        },
        `anti-entropy: asked ${peerName} for ${wanted.length} of ${sync.buckets} buckets`,
      );
    } else if (message.verb === 'SYNCED') {
      this.incomingSyncs.delete(connection);
      this.log.info(
        {
          event: 'anti-entropy-done',
          peer: peerName,
          syncId: sync.id,
          received: message.records,
          stored: sync.stored,
          ms: Date.now() - sync.startedMs,
        },
        `anti-entropy with ${peerName}: received ${message.records} records, ${sync.stored} newer than ours`,
      );
    }
  }

  /**
   * Graceful stop: accepts no more connections, answers every client line already received (up to
   * `shutdownGraceMs`), flushes and closes the links, then cuts what is left. Resolves when done.
   */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed =
      server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    for (const timer of this.syncTimers.values()) clearTimeout(timer);
    this.syncTimers.clear();
    const clients = [...this.connections].filter((connection) => connection.kind === 'client');
    for (const connection of clients) connection.finish();
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(clients.map((connection) => connection.closedSignal)),
      new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, this.limits.shutdownGraceMs))),
    ]);
    clearTimeout(graceTimer);
    await Promise.all([...this.links.values()].map((link) => link.close()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.log.info({ event: 'stopped' }, `${this.name} stopped`);
  }
}
