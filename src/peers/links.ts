/**
 * A server's links to its neighbours (docs/protocol.md "Links"): one outgoing link per neighbour,
 * which this server dials and floods over; the incoming link each neighbour dials back; the
 * neighbours' incarnations; anti-entropy on every link-up and periodically; how stored updates
 * spread (flooding, or a tree per origin with ./plumtree.ts); and the status rows of `/status`. A
 * link between two servers is two TCP connections, one per flooding direction.
 */
import type tls from 'node:tls';
import type { LinkStatusRow } from '../core/status.js';
import type { Timers } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';
import type { AtRecord } from '../protocol/at-record.js';
import type { TreeMessage } from './tree-messages.js';
import type { LocationStore } from '../store/location-store.js';
import { AntiEntropyDialler } from './anti-entropy.js';
import { HeartbeatTicker } from './failure-detector.js';
import { exponentialBackoff } from './backoff.js';
import type { LinkIdentity } from './handshake.js';
import type { IncomingLink } from './incoming-link.js';
import type { LinkSettings } from './link-settings.js';
import { OutgoingLink, type PeerAddress } from './outgoing-link.js';
import { HopCounts, type HerdLink } from './hop-counts.js';
import { TreeRouter } from './plumtree.js';

/** Options of {@link Links}. */
export interface LinksOptions {
  /** This server in handshakes. */
  readonly self: LinkIdentity;
  /** Names of the neighbours: the servers this one dials and accepts links from. */
  readonly neighbours: readonly string[];
  /** Every link of the herd, for the tree's hop counts (./hop-counts.ts). */
  readonly herdLinks: readonly HerdLink[];
  readonly settings: LinkSettings;
  /** Longest line a neighbour may send, bytes (`limits.maxLineBytes`). */
  readonly maxLineBytes: number;
  /** The server's shared heartbeat ticks (src/peers/failure-detector.ts). @default ticks of the links' own */
  readonly ticker?: HeartbeatTicker;
  /** The table that anti-entropy offers digests of. */
  readonly store: LocationStore;
  readonly logger: Logger;
  readonly observer: ServerObserver;
  readonly timers: Timers;
  /** Dial with TLS, with these options. @default plain TCP */
  readonly tls?: tls.ConnectionOptions;
}

interface Neighbour {
  readonly outgoing: OutgoingLink;
  readonly antiEntropy: AntiEntropyDialler;
  /** The neighbour's authenticated link to us, if open. */
  incoming: IncomingLink | undefined;
  /** Last incarnation it announced, to tell a restart from a reconnect. */
  incarnation: string | undefined;
  /** Its links to us that the failure detector closed (nothing received for `deadAfterMs`). */
  inboundTimeouts: number;
}

/** Every link of one server. */
export class Links {
  private readonly neighbours = new Map<string, Neighbour>();
  private readonly outgoingLinks = new Map<string, OutgoingLink>();
  private readonly log: Logger;
  private readonly timers: Timers;
  /** The tree dissemination, with `peer.dissemination: "tree"`. */
  readonly tree: TreeRouter | undefined;

  constructor(options: LinksOptions) {
    const { settings, logger, observer, timers, store, self } = options;
    this.log = logger;
    this.timers = timers;
    const ticker = options.ticker ?? new HeartbeatTicker(timers, settings.heartbeatIntervalMs);
    const tree =
      settings.dissemination === 'tree'
        ? new TreeRouter({
            store,
            hops: new HopCounts(options.herdLinks, options.neighbours),
            push: (peer, line) => this.outgoingLinks.get(peer)?.send(line),
            reply: (peer, line) => this.neighbours.get(peer)?.incoming?.reply(line) ?? false,
            maxLineBytes: options.maxLineBytes,
            maxPending: settings.maxQueuedUpdates,
            intervalMs: settings.heartbeatIntervalMs,
            log: logger,
          })
        : undefined;
    this.tree = tree;
    // Announcements go out on the heartbeat ticks, ahead of the heartbeats they make unneeded.
    if (tree !== undefined) ticker.onTick((nowMs) => tree.tick(nowMs));
    const backoff = exponentialBackoff({
      baseDelayMs: settings.reconnectBaseDelayMs,
      maxDelayMs: settings.reconnectMaxDelayMs,
    });
    for (const peerName of options.neighbours) {
      // Each callback below runs only once the link dials, after both objects exist.
      const outgoing: OutgoingLink = new OutgoingLink({
        self,
        peerName,
        backoff,
        logger,
        timers,
        connectTimeoutMs: settings.connectTimeoutMs,
        handshakeTimeoutMs: settings.handshakeTimeoutMs,
        maxQueuedUpdates: settings.maxQueuedUpdates,
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        ticker,
        deadAfterMs: settings.deadAfterMs,
        tls: options.tls,
        onUp: (incarnation) => {
          this.noteIncarnation(peerName, incarnation);
          tree?.outgoingUp(peerName);
          antiEntropy.linkUp();
        },
        onDown: () => {
          tree?.outgoingDown(peerName);
          antiEntropy.linkDown();
        },
        onSyncReply: (message) => antiEntropy.onMessage(message),
        onTreeMessage: (message) => tree?.onMessage(peerName, message, timers.now()),
        maxLineBytes: options.maxLineBytes,
        onStatus: (status) => observer.linkStatus(peerName, status),
        onSent: (lines, bytes) => observer.flood('sent', peerName, lines, bytes),
      });
      // The dialler's side of anti-entropy: it offers and answers over the outgoing link.
      const antiEntropy = new AntiEntropyDialler({
        peerName,
        store,
        send: (line) => outgoing.send(line),
        backlog: () => outgoing.queuedUpdates,
        dropped: () => outgoing.droppedUpdates,
        log: logger,
        timers,
        intervalMs: settings.antiEntropyIntervalMs,
        onRecordsSent: (records) => observer.antiEntropy(peerName, records),
      });
      this.neighbours.set(peerName, {
        outgoing,
        antiEntropy,
        incoming: undefined,
        incarnation: undefined,
        inboundTimeouts: 0,
      });
      this.outgoingLinks.set(peerName, outgoing);
    }
  }

  /** Whether `name` is a neighbour (only neighbours may link to this server). */
  isNeighbour(name: string): boolean {
    return this.neighbours.has(name);
  }

  /** The outgoing link to each neighbour, by name. */
  get outgoing(): ReadonlyMap<string, OutgoingLink> {
    return this.outgoingLinks;
  }

  /** Tells where neighbour `peerName`'s peer port is; its link dials it. Unknown names and port 0 are ignored. */
  setPeerAddress(peerName: string, address: PeerAddress): void {
    if (address.port === 0) return;
    this.neighbours.get(peerName)?.outgoing.setAddress(address);
  }

  /**
   * Sends a stored record on to every neighbour except `from`, the one it came from (split horizon):
   * to all of them with flooding, along its origin's tree (and announced to the rest) with `tree`.
   */
  flood(record: AtRecord, from: string | undefined): void {
    if (this.tree !== undefined) {
      this.tree.flood(record, from, this.neighbours.keys());
      return;
    }
    for (const [peerName, neighbour] of this.neighbours) {
      if (peerName !== from) neighbour.outgoing.send(record.atLine);
    }
  }

  /** A flood from `link`'s neighbour was not stored (with `tree`, a duplicate prunes that link). */
  notStored(record: AtRecord, link: IncomingLink): void {
    if (this.tree !== undefined && link.peerName !== undefined && this.isCurrent(link))
      this.tree.notStored(record, link.peerName);
  }

  /** A tree message that came on `link` (an IHAVE). */
  treeMessage(message: TreeMessage, link: IncomingLink): void {
    if (this.tree !== undefined && link.peerName !== undefined && this.isCurrent(link))
      this.tree.onMessage(link.peerName, message, this.timers.now());
  }

  /** Whether `link` is its neighbour's current link to this server. */
  private isCurrent(link: IncomingLink): boolean {
    return this.neighbours.get(link.peerName as string)?.incoming === link;
  }

  /**
   * A neighbour's incoming link passed its handshake: it replaces any older one from that
   * neighbour, and our own link to it re-dials at once if it was backing off (it is evidently back).
   */
  incomingUp(link: IncomingLink): void {
    const peerName = link.peerName as string;
    const neighbour = this.neighbours.get(peerName);
    if (neighbour === undefined) return;
    const previous = neighbour.incoming;
    neighbour.incoming = link;
    this.tree?.incomingUp(peerName);
    if (previous !== undefined && previous !== link) previous.destroy('replaced by a new link from the same neighbour');
    this.noteIncarnation(peerName, link.incarnation as string);
    neighbour.outgoing.redialNow();
  }

  /** An incoming link closed. */
  incomingClosed(link: IncomingLink): void {
    const neighbour = link.peerName === undefined ? undefined : this.neighbours.get(link.peerName);
    if (neighbour !== undefined && link.timedOut) neighbour.inboundTimeouts++;
    if (neighbour?.incoming === link) {
      neighbour.incoming = undefined;
      this.tree?.incomingClosed(link.peerName as string);
    }
  }

  private noteIncarnation(peerName: string, incarnation: string): void {
    const neighbour = this.neighbours.get(peerName);
    if (neighbour === undefined) return;
    const previous = neighbour.incarnation;
    neighbour.incarnation = incarnation;
    if (previous !== undefined && previous !== incarnation) {
      this.log.info(
        { event: 'peer-restarted', peer: peerName, previous, incarnation },
        `${peerName} restarted (incarnation ${previous} -> ${incarnation}); reconciling`,
      );
    }
  }

  /** One row per neighbour, in config link order. */
  status(): LinkStatusRow[] {
    return [...this.neighbours].map(([peer, { outgoing, incoming, inboundTimeouts }]) => ({
      peer,
      status: outgoing.status,
      queued: outgoing.queuedUpdates,
      dropped: outgoing.droppedUpdates,
      connects: outgoing.connects,
      inbound: incoming !== undefined,
      timeouts: outgoing.timeouts,
      inboundTimeouts,
    }));
  }

  /** Stops every outgoing link (pending lines are written first) and anti-entropy; resolves when closed. */
  async close(): Promise<void> {
    for (const neighbour of this.neighbours.values()) neighbour.antiEntropy.close();
    await Promise.all([...this.neighbours.values()].map((neighbour) => neighbour.outgoing.close()));
  }
}
