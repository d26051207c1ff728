/**
 * One member of the herd: a TCP server for clients and neighbours, the location store, the outgoing
 * links, and flooding (PROTOCOL.md sections 2 and 3).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import { formatGoogleJson } from '../protocol/google-json.js';
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/line-splitter.js';
import {
  formatAt,
  formatInvalidReply,
  formatWhatsatReply,
  parseAt,
  parseClientCommand,
  type IamatCommand,
  type WhatsatCommand,
} from '../protocol/commands.js';
import { SystemWallClock, type WallClock } from '../protocol/time.js';
import { exponentialBackoff, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS } from '../peers/backoff.js';
import { PeerLink, HANDSHAKE_TIMEOUT_MS, MAX_QUEUED_UPDATES, type PeerAddress } from '../peers/peer-link.js';
import { formatWelcome, parseGreeting } from '../peers/peer-protocol.js';
import { failedNearbySearch, type NearbySearchResponse, type PlacesProvider } from '../places/provider.js';
import { PlacesError } from '../errors.js';
import { LocationStore, type LocationRecord } from '../store/location-store.js';
import { Connection, type ConnectionHandler, type Reply } from './connection.js';

/** Default {@link ServerLimits.maxPendingOutputBytes}: 1 MiB. */
export const MAX_PENDING_OUTPUT_BYTES = 1024 * 1024;
/** Default {@link ServerLimits.placesTimeoutMs}: a WHATSAT is answered within this even if its source hangs. */
export const PLACES_TIMEOUT_MS = 10_000;

/** Limits of a server; each has a default. */
export interface ServerLimits {
  /** Longest command line, bytes. @default {@link DEFAULT_MAX_LINE_BYTES} (64 KiB) */
  maxLineBytes: number;
  /** Unwritten reply bytes at which a connection stops reading. @default {@link MAX_PENDING_OUTPUT_BYTES} */
  maxPendingOutputBytes: number;
  /** Longest wait for the places source, ms; then `UNKNOWN_ERROR`. @default {@link PLACES_TIMEOUT_MS} */
  placesTimeoutMs: number;
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
  private readonly handler: ConnectionHandler;
  private readonly commands: {
    IAMAT: (command: IamatCommand) => Reply;
    WHATSAT: (command: WhatsatCommand, line: string) => Reply;
  };
  private server: net.Server | undefined;
  private nextConnectionId = 1;

  constructor(options: HerdServerOptions) {
    this.options = options;
    this.name = options.name;
    this.incarnation = options.incarnation ?? `${Date.now()}-${randomBytes(4).toString('hex')}`;
    this.log = options.logger;
    this.clock = options.clock ?? new SystemWallClock();
    this.limits = {
      maxLineBytes: options.limits?.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      maxPendingOutputBytes: options.limits?.maxPendingOutputBytes ?? MAX_PENDING_OUTPUT_BYTES,
      placesTimeoutMs: options.limits?.placesTimeoutMs ?? PLACES_TIMEOUT_MS,
    };
    const linkSettings = options.links ?? {};
    const backoff = exponentialBackoff({
      baseDelayMs: linkSettings.reconnectBaseDelayMs ?? RECONNECT_BASE_DELAY_MS,
      maxDelayMs: linkSettings.reconnectMaxDelayMs ?? RECONNECT_MAX_DELAY_MS,
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
          handshakeTimeoutMs: linkSettings.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
          maxQueuedUpdates: linkSettings.maxQueuedUpdates ?? MAX_QUEUED_UPDATES,
        }),
      );
    }
    // One handler per command, dispatched from one table.
    this.commands = {
      IAMAT: (command) => this.iamat(command),
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
      onClose: (connection, reason) => {
        this.connections.delete(connection);
        this.log.info(
          { event: 'connection-closed', conn: connection.id, remote: connection.remote, kind: connection.kind, peer: connection.peerName, reason },
          `${connection.kind} connection ${connection.id} closed`,
        );
      },
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
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.log.error({ event: 'server-error', err: error.message }, 'server error'));
    const address = server.address() as net.AddressInfo;
    this.log.info({ event: 'listening', host: address.address, port: address.port, incarnation: this.incarnation }, `${this.name} listening on ${address.address}:${address.port}`);
    for (const [peerName, address] of this.options.peerAddresses ?? []) this.setPeerAddress(peerName, address);
    return address;
  }

  /** Tells the server where neighbour `peerName` listens; its link dials it. Unknown names are ignored. */
  setPeerAddress(peerName: string, address: PeerAddress): void {
    if (address.port === 0) return;
    this.links.get(peerName)?.setAddress(address);
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.handleConnection(socket, remote);
  }

  /**
   * Serves one connection over any duplex stream (a socket, or a `duplexPair()` end in tests).
   *
   * @param remote - a label for the remote end in logs.
   */
  handleConnection(stream: Duplex, remote: string): Connection {
    const connection = new Connection(this.nextConnectionId++, remote, stream, this.handler, this.limits);
    this.connections.add(connection);
    this.log.info({ event: 'connection-new', conn: connection.id, remote }, `connection ${connection.id} from ${remote}`);
    return connection;
  }

  private onLine(connection: Connection, line: string): Reply | undefined {
    if (connection.kind === 'peer') {
      this.receiveFlood(connection.peerName as string, line);
      return undefined;
    }
    this.log.info({ event: 'line-in', conn: connection.id, line }, 'in');
    const command = parseClientCommand(line);
    if (command === undefined) return undefined;
    let reply: Reply;
    if (command.kind === 'IAMAT') reply = this.commands.IAMAT(command);
    else if (command.kind === 'WHATSAT') reply = this.commands.WHATSAT(command, line);
    else {
      const greeting = connection.pendingReplies === 0 ? parseGreeting(line) : undefined;
      if (greeting?.verb === 'HELLO' && this.acceptPeer(connection, greeting.serverName, greeting.incarnation)) return undefined;
      this.log.info({ event: 'invalid-command', conn: connection.id, reason: command.reason }, `invalid: ${command.reason}`);
      reply = formatInvalidReply(line);
    }
    if (typeof reply === 'string') {
      this.log.info({ event: 'line-out', conn: connection.id, reply }, 'out');
      return reply;
    }
    return reply.then((text) => {
      this.log.info({ event: 'line-out', conn: connection.id, reply: text.slice(0, text.indexOf('\n')), bytes: Buffer.byteLength(text) }, 'out');
      return text;
    });
  }

  private acceptPeer(connection: Connection, peerName: string, incarnation: string): boolean {
    const link = this.links.get(peerName);
    if (link === undefined) {
      this.log.warn({ event: 'peer-rejected', conn: connection.id, peer: peerName }, `HELLO from ${peerName}, which is not a neighbour`);
      return false;
    }
    connection.kind = 'peer';
    connection.peerName = peerName;
    connection.writeRaw(formatWelcome(this.name, this.incarnation));
    this.log.info({ event: 'peer-connected', conn: connection.id, peer: peerName, incarnation, remote: connection.remote }, `link from ${peerName} up`);
    // The neighbour is evidently back: do not wait out our own backoff towards it.
    link.redialNow();
    return true;
  }

  private iamat(command: IamatCommand): string {
    const receivedNs = this.clock.nowNs();
    const atLine = formatAt(this.name, receivedNs - command.timeNs, command);
    const record: LocationRecord = {
      clientId: command.clientId,
      timeNs: command.timeNs,
      atLine,
      latitude: command.latitude,
      longitude: command.longitude,
    };
    // The reply acknowledges the IAMAT even when a newer location is already held (PROTOCOL.md 2).
    if (this.store.offer(record)) this.flood(record, undefined);
    return `${atLine}\n`;
  }

  private whatsat(command: WhatsatCommand, line: string): Reply {
    const record = this.store.get(command.clientId);
    if (record === undefined) {
      this.log.info({ event: 'invalid-command', reason: 'unknown client id', clientId: command.clientId }, 'WHATSAT for an unknown client');
      return formatInvalidReply(line);
    }
    return this.lookUpPlaces(record, command.radiusKm * 1000, command.bound).then((response) =>
      formatWhatsatReply(record.atLine, formatGoogleJson(response)),
    );
  }

  private async lookUpPlaces(record: LocationRecord, radiusMeters: number, limit: number): Promise<NearbySearchResponse> {
    const places = this.options.places;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let response: NearbySearchResponse;
    try {
      response = await Promise.race([
        places.nearby({ latitude: record.latitude, longitude: record.longitude }, radiusMeters, limit),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new PlacesError('UNKNOWN_ERROR', `places source ${places.source} did not answer within ${this.limits.placesTimeoutMs} ms`)),
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
    const level = response.status === 'OK' || response.status === 'ZERO_RESULTS' ? 'info' : 'warn';
    this.log[level](
      { event: 'places', source: places.source, clientId: record.clientId, radiusMeters, limit, status: response.status, results: response.results.length, ms, error: response.error_message },
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

  private receiveFlood(from: string, line: string): void {
    const message = parseAt(line);
    if (message === undefined) {
      this.log.error({ event: 'flood-malformed', peer: from, line }, `malformed line from ${from}`);
      return;
    }
    const record: LocationRecord = {
      clientId: message.clientId,
      timeNs: message.timeNs,
      atLine: message.line,
      latitude: message.latitude,
      longitude: message.longitude,
    };
    if (this.store.offer(record)) {
      this.log.info({ event: 'flood-stored', peer: from, clientId: record.clientId, line: record.atLine }, 'flood stored');
      this.flood(record, from);
    } else {
      this.log.info({ event: 'flood-stale', peer: from, clientId: record.clientId, line: record.atLine }, 'flood ignored as stale');
    }
  }

  /** Stops listening, closes links and connections. Resolves when all are closed. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...this.links.values()].map((link) => link.close()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.log.info({ event: 'stopped' }, `${this.name} stopped`);
  }
}
