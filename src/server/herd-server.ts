/**
 * One member of the herd, composed of its parts (docs/protocol.md): a client port whose connections
 * are {@link ClientSession}s, a peer port whose connections are {@link IncomingLink}s, the location
 * store, the outgoing {@link Links}, and the one {@link ingest} path between them. This class only
 * wires them together, listens, reports status and shuts down.
 */
import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { ServerStatus, StoreStatus } from '../core/status.js';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';
import { composeObservers, NOOP_OBSERVER, type ServerObserver } from '../observability/observer.js';
import type { LinkIdentity } from '../peers/handshake.js';
import { HeartbeatTicker } from '../peers/failure-detector.js';
import { IncomingLink } from '../peers/incoming-link.js';
import { resolveLinkSettings, LINK_KEEPALIVE_MS, type LinkSettings } from '../peers/link-settings.js';
import type { HerdLink } from '../peers/hop-counts.js';
import { Links } from '../peers/links.js';
import type { OutgoingLink, PeerAddress } from '../peers/outgoing-link.js';
import { SystemWallClock } from '../protocol/time.js';
import { LocationStore } from '../store/location-store.js';
import type { AtRecord } from '../protocol/at-record.js';
import { Admission } from './admission.js';
import { ClientSession } from './client-session.js';
import type { CommandContext } from './commands/index.js';
import { createCommandContext } from './commands/context.js';
import { ingest, type IngestTargets } from './ingest.js';
import { waitForLinks } from './join-wait.js';
import { OpenConnections } from './open-connections.js';
import { resolveServerLimits, type ServerLimits } from './limits.js';
import { addressText, createListener, listenOn, remoteText, watchAcceptErrors } from './listeners.js';
import { PlacesLookup, type PlacesJson } from './places-lookup.js';
import type { HerdServerOptions, ListeningAddresses } from './herd-server-options.js';

export type { HerdServerOptions, ListeningAddresses } from './herd-server-options.js';

/** `/status`'s `store` without a durable store. */
const MEMORY_STORE: StoreStatus = Object.freeze({ state: 'memory', pendingRows: 0 });

/** A herd member. Create, {@link listen}, and {@link close} when done. */
export class HerdServer {
  readonly name: string;
  readonly incarnation: string;
  readonly store: LocationStore;
  private readonly options: HerdServerOptions;
  /** Set by {@link close}: a start still joining must not open the client port after it. */
  private closing = false;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly limits: Readonly<ServerLimits>;
  private readonly linkSettings: Readonly<LinkSettings>;
  private readonly observer: ServerObserver;
  private readonly links: Links;
  /** One heartbeat tick for every link connection of this server (src/peers/failure-detector.ts). */
  private readonly heartbeats: HeartbeatTicker;
  private readonly admission: Admission;
  private readonly context: CommandContext;
  private readonly ingestTargets: IngestTargets;
  private readonly self: LinkIdentity;
  private readonly sessions = new Set<ClientSession>();
  private readonly incoming = new Set<IncomingLink>();
  private readonly connections: OpenConnections;
  private clientListener: net.Server | undefined;
  private peerListener: net.Server | undefined;
  private addresses: ListeningAddresses | undefined;
  /** {@link Timers.now} when the server started listening. */
  private startedAtMs: number | undefined;
  /** While {@link listen} waits for the links: looks whether they are up. */
  private joinCheck: (() => void) | undefined;

  constructor(options: HerdServerOptions) {
    this.options = options;
    this.name = options.name;
    this.incarnation = options.incarnation ?? `${Date.now()}-${randomBytes(4).toString('hex')}`;
    this.store = options.store ?? new LocationStore();
    this.log = options.logger;
    this.observer = options.observer ?? NOOP_OBSERVER;
    this.connections = new OpenConnections(this.observer, this.log);
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.limits = resolveServerLimits(options.limits);
    this.linkSettings = resolveLinkSettings(options.links);
    this.heartbeats = new HeartbeatTicker(this.timers, this.linkSettings.heartbeatIntervalMs);
    this.admission = new Admission(this.limits, this.log, this.observer);
    for (const record of options.initialRecords ?? []) this.store.offer(record);
    this.self = { name: this.name, incarnation: this.incarnation, secret: options.secret };
    this.links = new Links({
      self: this.self,
      neighbours: options.neighbours,
      herdLinks: options.herdLinks ?? options.neighbours.map((peer): HerdLink => [this.name, peer]),
      settings: this.linkSettings,
      store: this.store,
      maxLineBytes: this.limits.maxLineBytes,
      ticker: this.heartbeats,
      logger: this.log,
      // Link changes also end the wait of listen() for the links.
      observer: composeObservers(this.observer, { linkStatus: () => this.joinCheck?.() }),
      timers: this.timers,
      tls: options.tls?.client,
    });
    this.ingestTargets = {
      store: this.store,
      persistence: options.persistence,
      flood: (update, from) => this.links.flood(update, from),
    };
    const places = new PlacesLookup({
      places: options.places,
      timeoutMs: this.limits.placesTimeoutMs,
      logger: this.log,
      observer: this.observer,
      timers: this.timers,
    });
    const persistence = options.persistence;
    persistence?.attach({ table: this.store, observer: this.observer });
    this.context = createCommandContext({
      serverName: this.name,
      clock: options.clock ?? new SystemWallClock(),
      maxFutureSkewMs: this.limits.maxFutureSkewMs,
      maxLineBytes: this.limits.maxLineBytes,
      store: this.store,
      ingest: (record) => this.ingest(record, undefined),
      whenCommitted:
        options.syncCommit === true && persistence !== undefined ? () => persistence.whenCommitted() : undefined,
      lookUpPlaces: (atLine, radiusMeters, limit) => places.lookUpJson(atLine, radiusMeters, limit),
      cachedPlaces: (atLine, radiusMeters, limit) => places.cachedJson(atLine, radiusMeters, limit),
    });
  }

  /** The one path into the table: offer, persist, flood (src/server/ingest.ts). */
  private ingest(record: AtRecord, from: string | undefined): boolean {
    const stored = ingest(this.ingestTargets, record, from);
    if (stored) this.observer.stored(record, from);
    return stored;
  }

  /**
   * A snapshot of the server's state, as `/status` serves it ({@link ServerStatus}).
   */
  status(): ServerStatus {
    return {
      name: this.name,
      incarnation: this.incarnation,
      uptimeMs: this.startedAtMs === undefined ? 0 : Math.round(this.timers.now() - this.startedAtMs),
      clientAddress: addressText(this.addresses?.client),
      peerAddress: addressText(this.addresses?.peer),
      clients: this.store.size,
      connections: this.sessions.size + this.incoming.size,
      placesSource: this.options.places.source,
      links: this.links.status(),
      store: this.options.persistence?.status() ?? MEMORY_STORE,
    };
  }

  /**
   * The places a WHATSAT for the client of `atLine` with this radius and bound would answer, through
   * the very look-up WHATSAT uses ({@link PlacesLookup.lookUpJson}: its time-out, its reuse of
   * identical answers, its metric), as the document WHATSAT prints. The dashboard's client view asks
   * here. Never rejects.
   */
  lookUpPlaces(atLine: string, radiusMeters: number, limit: number): Promise<PlacesJson> {
    return this.context.lookUpPlaces(atLine, radiusMeters, limit);
  }

  /** The outgoing link to each neighbour, by name. */
  get peerLinks(): ReadonlyMap<string, OutgoingLink> {
    return this.links.outgoing;
  }

  /**
   * Starts listening: the peer port first, then every neighbour whose address is known is dialled,
   * and the client port opens once each of them links to this server both ways (or refused the
   * dial), at most `joinTimeoutMs` later (docs/operations.md "Start-up"). So a restarted server is
   * in the flood from its first client: an update checked in at a neighbour reaches it at once.
   *
   * @returns both bound addresses (the real ports where the configured ones are 0).
   * @throws the `listen` error of either port (e.g. `EADDRINUSE`), with the server left closed.
   */
  async listen(): Promise<ListeningAddresses> {
    const tlsOptions = this.options.tls;
    // A client that half-closes still gets every reply (docs/protocol.md), hence allowHalfOpen.
    const clientListener = createListener(true, (socket) => this.onClientSocket(socket), tlsOptions, this.log);
    const peerListener = createListener(false, (socket) => this.onPeerSocket(socket), tlsOptions, this.log);
    const { host, port } = this.options;
    const peerHost = this.options.peerHost ?? host;
    const peerPort = this.options.peerPort ?? 0;
    try {
      await listenOn(peerListener, peerHost, peerPort);
      this.peerListener = peerListener;
      for (const [peerName, address] of this.options.peerAddresses ?? []) this.setPeerAddress(peerName, address);
      // The descriptor counts are read while the links join (the client port needs them), so that
      // the port opens the moment they are up: after the join, the loop is busy with their
      // anti-entropy and the store's restore, and an asynchronous read would wait behind them.
      const descriptorsRead = this.admission.descriptors.start();
      await this.joined();
      await descriptorsRead;
      if (this.closing) throw new Error(`${this.name} was closed while it started`);
      await listenOn(clientListener, host, port);
    } catch (error) {
      clientListener.close();
      await this.close();
      throw error;
    }
    watchAcceptErrors(clientListener, 'client', this.log, this.observer);
    watchAcceptErrors(peerListener, 'peer', this.log, this.observer);
    this.clientListener = clientListener;
    const addresses: ListeningAddresses = {
      client: clientListener.address() as net.AddressInfo,
      peer: peerListener.address() as net.AddressInfo,
    };
    this.addresses = addresses;
    this.startedAtMs = this.timers.now();
    this.log.info(
      {
        event: 'listening',
        host: addresses.client.address,
        port: addresses.client.port,
        peerHost: addresses.peer.address,
        peerPort: addresses.peer.port,
        incarnation: this.incarnation,
      },
      `${this.name} listening on ${addressText(addresses.client)} (clients) and ${addressText(addresses.peer)} (peers)`,
    );
    return addresses;
  }

  /** Waits for the links to the neighbours before the client port opens (./join-wait.ts). */
  private joined(): Promise<void> {
    const { joinTimeoutMs } = this.linkSettings;
    const options = { links: this.links, timeoutMs: joinTimeoutMs, timers: this.timers, logger: this.log };
    return waitForLinks(options, (check) => (this.joinCheck = check));
  }

  /** Tells the server where neighbour `peerName`'s peer port is; its link dials it. Unknown names are ignored. */
  setPeerAddress(peerName: string, address: PeerAddress): void {
    this.links.setPeerAddress(peerName, address);
  }

  private onClientSocket(socket: net.Socket): void {
    if (!this.admission.admit(socket, 'client')) return;
    this.acceptClient(socket, remoteText(socket));
  }

  private onPeerSocket(socket: net.Socket): void {
    if (!this.admission.admit(socket, 'peer')) return;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, LINK_KEEPALIVE_MS);
    this.acceptPeer(socket, remoteText(socket));
  }

  /**
   * What every connection accepted on `port` starts with: it is numbered, counted and logged
   * ({@link OpenConnections.opened}), and served with this server's timers, logger and observer.
   */
  private accepted(port: 'client' | 'peer', stream: Duplex, remote: string) {
    const id = this.connections.opened(port, stream, remote);
    return { id, remote, stream, timers: this.timers, logger: this.log, observer: this.observer };
  }

  /**
   * Serves one client connection over any duplex stream (a socket, or a `duplexPair()` end in tests).
   *
   * @param remote - a label for the remote end in logs.
   */
  acceptClient(stream: Duplex, remote: string): ClientSession {
    const accepted = this.accepted('client', stream, remote);
    const session = new ClientSession({
      ...accepted,
      context: this.context,
      limits: this.limits,
      onClose: (closed, reason) => {
        this.sessions.delete(closed);
        this.connections.closed('client', stream, { conn: accepted.id, remote, reason });
      },
    });
    this.sessions.add(session);
    return session;
  }

  /**
   * Serves one connection to the peer port over any duplex stream: it must pass the handshake
   * before any of its lines counts.
   *
   * @param remote - a label for the remote end in logs.
   */
  acceptPeer(stream: Duplex, remote: string): IncomingLink {
    const accepted = this.accepted('peer', stream, remote);
    const link = new IncomingLink({
      ...accepted,
      self: this.self,
      isNeighbour: (name) => this.links.isNeighbour(name),
      maxLineBytes: this.limits.maxLineBytes,
      handshakeTimeoutMs: this.linkSettings.handshakeTimeoutMs,
      heartbeatIntervalMs: this.linkSettings.heartbeatIntervalMs,
      ticker: this.heartbeats,
      deadAfterMs: this.linkSettings.deadAfterMs,
      store: this.store,
      ingest: (record, from) => this.ingest(record, from),
      onNotStored: (record, link) => this.links.notStored(record, link),
      onIHave: (message, link) => this.links.treeMessage(message, link),
      onUp: (up) => {
        this.links.incomingUp(up);
        this.joinCheck?.();
      },
      onClose: (closed, reason) => {
        this.incoming.delete(closed);
        this.links.incomingClosed(closed);
        this.connections.closed('peer', stream, { conn: accepted.id, remote, reason, peer: closed.peerName });
      },
    });
    this.incoming.add(link);
    return link;
  }

  /**
   * Graceful stop: accepts no more connections, answers every client line already received (up to
   * `shutdownGraceMs`), flushes and closes the outgoing links, ends the incoming ones, then cuts
   * what is left. Resolves when done.
   */
  async close(): Promise<void> {
    this.closing = true;
    const listeners = [this.clientListener, this.peerListener].filter((l): l is net.Server => l !== undefined);
    this.clientListener = undefined;
    this.peerListener = undefined;
    const closed = Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
    this.admission.descriptors.stop();
    const sessions = [...this.sessions];
    for (const session of sessions) session.finish();
    let graceTimer: TimerHandle | undefined;
    await Promise.race([
      Promise.all(sessions.map((session) => session.closed)),
      new Promise<void>((resolve) => (graceTimer = this.timers.setTimeout(resolve, this.limits.shutdownGraceMs))),
    ]);
    this.timers.clearTimeout(graceTimer);
    await this.links.close();
    for (const link of this.incoming) link.end();
    this.connections.destroyAll();
    await closed;
    this.log.info({ event: 'stopped' }, `${this.name} stopped`);
  }
}
