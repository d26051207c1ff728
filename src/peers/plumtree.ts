/**
 * Tree dissemination: Plumtree (Leitão, Pereira and Rodrigues, "Epidemic Broadcast Trees", SRDS
 * 2007; as in Riak Core's broadcast and Partisan) over a herd's links from the config
 * (docs/protocol.md#dissemination-flood-or-tree). Pure: a store, functions that write lines, and
 * the ticks of the server's heartbeat ticker; no sockets, so a whole herd of routers is tested in
 * memory.
 *
 * - One tree per root, the server that received the IAMAT (the AT line's second field), as Riak
 *   Core keeps one per sender: each update travels its own origin's tree, the paths of its first
 *   arrivals, so the far side of a ring is as many hops away as with flooding.
 * - Eager push: a stored update goes at once, as its AT line, to every neighbour that is eager for
 *   its root (all of them, at first) except the one it came from.
 * - A duplicate (the very line already held arrives again) prunes that link for that root: the
 *   receiver writes `PRUNE <root>` back, and the sender announces that root's updates lazily. Unless
 *   the first copy came over a link already pruned for that root (its PRUNE still on the way): the
 *   duplicate's link is then the tree's way here and stays, so two near-equal paths settle on one
 *   instead of both being pruned.
 * - Unless the duplicate came by fewer hops from the root over the config's links (./hop-counts.ts):
 *   then the first copy's link is pruned instead. First arrivals alone let two servers, each of
 *   whose first copies of two different updates came from the other, prune their real ways in and
 *   feed each other only, until announcements graft them back a second or two later. With hops
 *   deciding, each server's parent is nearer the root than itself, and a tree has no cycle.
 * - The root's own link to each neighbour is never pruned: a duplicate from the root prunes the
 *   link the first copy came over. So every neighbour of the server a client checked in at gets the
 *   update in one hop, as with flooding, however the trees formed under load (a full mesh's tree is
 *   then the root's star: N-1 lines).
 * - Lazy push: on each tick (the shared heartbeat tick, so an idle link's announcement replaces its
 *   heartbeat), the updates stored since the last one go to lazy neighbours as ids only, `IHAVE <root>
 *   <client id> <hash> ...`, or sooner once they fill a line: no tick announces a second of load at
 *   once (docs/benchmarks.md "Announcements a line at a time (2026-12-04, quiet box)").
 * - A miss noticed on a lazy link grafts it back: an announced record still missing at a tick at
 *   least half an interval later is asked for, `GRAFT <root> <client id> ...`, which also makes
 *   that link eager again for the root. Another announcer is asked at the next tick if it is still
 *   missing.
 * - A link that closes grafts back every link pruned for any root, since the lost link may have been
 *   a tree's only way here (Plumtree's NeighborDown, with a static neighbour set); duplicates prune
 *   the surplus again. A link that comes up starts eager for every root.
 *
 * PRUNE and GRAFT go back over the connection the updates came on (the neighbour accepted it);
 * IHAVE and the updates go over the connection this server dialled. Each connection starts afresh.
 */
import { serverNameOf, type AtRecord } from '../protocol/at-record.js';
import {
  atLineHash,
  hasAtLineHash,
  ihaveEntryBytes,
  formatGraftLines,
  formatIHaveLines,
  formatPrune,
  type TreeMessage,
} from './tree-messages.js';
import type { TreeCounters, TreeRouterOptions } from './tree-router-options.js';

/** This server's side of the link it dialled to one neighbour: what it pushes there, and how. */
interface PushSide {
  /** Roots whose updates this neighbour gets announced rather than pushed (it pruned them). */
  readonly lazyRoots: Set<string>;
  /** Updates to announce at the next tick, or sooner when they would fill a line. */
  pending: AtRecord[];
  /** What {@link pending} takes in IHAVE lines, bytes ({@link ihaveEntryBytes} each). */
  pendingBytes: number;
}

/** This server's side of the link a neighbour dialled to it: what it told the neighbour. */
interface PullSide {
  /** Roots this server pruned on the current connection. */
  readonly pruned: Set<string>;
}

/** A record announced on a lazy link and not held (yet). */
interface Missing {
  readonly root: string;
  readonly hash: string;
  /** Neighbours that announced it, in order; the first is asked next. */
  readonly announcers: string[];
  /** When it was (last) announced or asked for, ms on the ticks' clock. */
  sinceMs: number;
}

/** The tree dissemination of one server. */
export class TreeRouter {
  readonly counters: TreeCounters = {
    prunesSent: 0,
    graftsSent: 0,
    recordsGrafted: 0,
    ihaveLinesSent: 0,
    announcementsDropped: 0,
  };
  private readonly options: TreeRouterOptions;
  private readonly pushSides = new Map<string, PushSide>();
  private readonly pullSides = new Map<string, PullSide>();
  /** Client id -> the record announced for it that is not held. */
  private readonly missing = new Map<string, Missing>();
  /** Root -> the neighbour whose link brought its latest update first. */
  private readonly firstFrom = new Map<string, string>();

  constructor(options: TreeRouterOptions) {
    this.options = options;
  }

  /** Whether `peer` gets `root`'s updates announced rather than pushed. */
  isLazy(peer: string, root: string): boolean {
    return this.pushSides.get(peer)?.lazyRoots.has(root) ?? false;
  }

  /** Records announced and not held, being asked for. */
  get missingRecords(): number {
    return this.missing.size;
  }

  /**
   * Spreads a stored record to every neighbour of `neighbours` except `from`: its AT line to those
   * eager for its root, an announcement at the next tick to the others.
   */
  flood(record: AtRecord, from: string | undefined, neighbours: Iterable<string>): void {
    // Arrived: no longer missing, so that a tick scans only what is (docs/operations.md "Event-loop blocks").
    const missing = this.missing.size === 0 ? undefined : this.missing.get(record.clientId);
    if (missing !== undefined && hasAtLineHash(record.atLine, missing.hash)) this.missing.delete(record.clientId);
    let root: string | undefined;
    if (from !== undefined) {
      root = serverNameOf(record.atLine);
      if (this.firstFrom.get(root) !== from) this.firstFrom.set(root, from);
    }
    for (const peer of neighbours) {
      if (peer === from) continue;
      const side = this.pushSides.get(peer);
      if (side === undefined || side.lazyRoots.size === 0) {
        this.options.push(peer, record.atLine);
        continue;
      }
      root ??= serverNameOf(record.atLine);
      if (!side.lazyRoots.has(root)) this.options.push(peer, record.atLine);
      else if (side.pending.length < this.options.maxPending) this.pend(peer, side, record);
      else this.counters.announcementsDropped++;
    }
  }

  /** Queues `record`'s announcement to `peer`, and announces the queue at once when it would fill a line. */
  private pend(peer: string, side: PushSide, record: AtRecord): void {
    side.pending.push(record);
    side.pendingBytes += ihaveEntryBytes(record.clientId);
    if (side.pendingBytes >= this.options.maxLineBytes) this.announceTo(peer, side);
  }

  /**
   * A record from `from` was not stored. When it is the very line held (a duplicate: it came by two
   * paths), one of the two links is told to prune that root, once per connection: the one with
   * more hops from the root (./hop-counts.ts), and between equal hops `from`, the later copy's. A
   * root's own link to a neighbour is its one-hop path and is never pruned (so a client that checks
   * in at a server and at once asks its neighbour finds the update there, as flooding guarantees).
   */
  notStored(record: AtRecord, from: string): void {
    if (this.options.store.atLineOf(record.clientId) !== record.atLine) return;
    const root = serverNameOf(record.atLine);
    const first = this.firstFrom.get(root);
    if (from === root) {
      if (first !== undefined && first !== root) this.prune(first, root);
      return;
    }
    if (first === undefined || first === from) {
      this.prune(from, root);
      return;
    }
    // The first copy's link already pruned (or closed): the duplicate's link is the way here.
    if (this.pullSides.get(first)?.pruned.has(root) !== false) return;
    // Fewer hops from the root wins, whichever copy came first: a server's parent is then always
    // nearer the root than itself, so no two servers can each keep the other as their only way.
    const { hops } = this.options;
    const shorter = hops !== undefined && hops.hops(root, from) < hops.hops(root, first);
    if (shorter && this.pullSides.get(from)?.pruned.has(root) === false) this.prune(first, root);
    else this.prune(from, root);
  }

  /** Asks `peer` to announce `root`'s updates rather than push them, once per connection. */
  private prune(peer: string, root: string): void {
    const side = this.pullSides.get(peer);
    if (side === undefined || side.pruned.has(root)) return;
    if (!this.options.reply(peer, formatPrune(root))) return;
    side.pruned.add(root);
    this.counters.prunesSent++;
    this.options.log.info(
      { event: 'tree-prune', peer, root },
      `tree: ${root}'s updates came by two paths; asked ${peer} to announce them instead`,
    );
  }

  /** A tree message from `peer`: IHAVE on its link to us; PRUNE and GRAFT on ours to it. */
  onMessage(peer: string, message: TreeMessage, nowMs: number): void {
    if (message.type === 'PRUNE') {
      this.pushSides.get(peer)?.lazyRoots.add(message.root);
    } else if (message.type === 'GRAFT') {
      this.onGraft(peer, message.root, message.clientIds);
    } else {
      this.onIHave(peer, message.root, message.entries, nowMs);
    }
  }

  private onGraft(peer: string, root: string, clientIds: readonly string[]): void {
    const side = this.pushSides.get(peer);
    if (side === undefined) return;
    side.lazyRoots.delete(root);
    const { store, push } = this.options;
    for (const clientId of clientIds) {
      const atLine = store.atLineOf(clientId);
      if (atLine !== undefined) push(peer, atLine);
    }
  }

  private onIHave(peer: string, root: string, entries: readonly string[], nowMs: number): void {
    const { store, maxPending } = this.options;
    for (let i = 0; i + 1 < entries.length; i += 2) {
      const clientId = entries[i] as string;
      const hash = entries[i + 1] as string;
      const held = store.atLineOf(clientId);
      if (held !== undefined && hasAtLineHash(held, hash)) continue;
      const known = this.missing.get(clientId);
      if (known !== undefined && known.hash === hash) {
        if (!known.announcers.includes(peer)) known.announcers.push(peer);
      } else if (known !== undefined || this.missing.size < maxPending) {
        this.missing.set(clientId, { root, hash, announcers: [peer], sinceMs: nowMs });
      } else {
        this.counters.announcementsDropped++;
      }
    }
  }

  /**
   * A tick of the server's heartbeat ticker, at `nowMs`: announces what each lazy neighbour is
   * owed, and asks for what was announced at least half an interval ago and is still missing.
   */
  tick(nowMs: number): void {
    this.announce();
    this.graftMissing(nowMs);
  }

  private announce(): void {
    for (const [peer, side] of this.pushSides) if (side.pending.length > 0) this.announceTo(peer, side);
  }

  /** Writes `peer`'s pending announcements, one IHAVE line per root (or more, cut at `maxLineBytes`). */
  private announceTo(peer: string, side: PushSide): void {
    const { store, push, maxLineBytes } = this.options;
    const byRoot = new Map<string, string[]>();
    for (const record of side.pending) {
      // Superseded since: the newer record has its own way here (pushed, announced, or from `peer`).
      if (store.atLineOf(record.clientId) !== record.atLine) continue;
      const root = serverNameOf(record.atLine);
      let entries = byRoot.get(root);
      if (entries === undefined) byRoot.set(root, (entries = []));
      entries.push(record.clientId, atLineHash(record.atLine));
    }
    side.pending = [];
    side.pendingBytes = 0;
    for (const [root, entries] of byRoot) {
      for (const line of formatIHaveLines(root, entries, maxLineBytes)) {
        push(peer, line);
        this.counters.ihaveLinesSent++;
      }
    }
  }

  private graftMissing(nowMs: number): void {
    if (this.missing.size === 0) return;
    const { store, log, maxLineBytes } = this.options;
    const due = this.options.intervalMs / 2;
    /** Announcer -> root -> client ids to ask it for. */
    const asks = new Map<string, Map<string, string[]>>();
    for (const [clientId, missing] of this.missing) {
      const held = store.atLineOf(clientId);
      if (held !== undefined && hasAtLineHash(held, missing.hash)) {
        this.missing.delete(clientId);
        continue;
      }
      if (nowMs - missing.sinceMs < due) continue;
      const announcer = missing.announcers.shift();
      if (announcer === undefined) {
        // Every announcer was asked: anti-entropy is left to repair it.
        this.missing.delete(clientId);
        continue;
      }
      missing.sinceMs = nowMs;
      let byRoot = asks.get(announcer);
      if (byRoot === undefined) asks.set(announcer, (byRoot = new Map<string, string[]>()));
      let ids = byRoot.get(missing.root);
      if (ids === undefined) byRoot.set(missing.root, (ids = []));
      ids.push(clientId);
    }
    for (const [peer, byRoot] of asks) {
      for (const [root, clientIds] of byRoot) {
        if (!this.graft(peer, root, clientIds, maxLineBytes)) continue;
        log.info(
          { event: 'tree-graft', peer, root, records: clientIds.length },
          `tree: ${clientIds.length} update(s) of ${root} announced by ${peer} did not arrive; asked ${peer} for them and to push ${root}'s updates again`,
        );
      }
    }
  }

  /** Sends GRAFT lines for `root` to `peer` and un-prunes it there; false when its link to us is down. */
  private graft(peer: string, root: string, clientIds: readonly string[], maxLineBytes: number): boolean {
    const side = this.pullSides.get(peer);
    if (side === undefined) return false;
    for (const line of formatGraftLines(root, clientIds, maxLineBytes)) {
      if (!this.options.reply(peer, line)) return false;
    }
    side.pruned.delete(root);
    this.counters.graftsSent++;
    this.counters.recordsGrafted += clientIds.length;
    return true;
  }

  /** The link this server dialled to `peer` came up: a new connection, eager for every root. */
  outgoingUp(peer: string): void {
    this.pushSides.set(peer, { lazyRoots: new Set(), pending: [], pendingBytes: 0 });
  }

  /** That link went down: nothing more is pushed or announced on it (anti-entropy runs at the next link-up). */
  outgoingDown(peer: string): void {
    this.pushSides.delete(peer);
  }

  /** `peer`'s link to this server came up (or replaced an older one): nothing is pruned on it yet. */
  incomingUp(peer: string): void {
    this.pullSides.set(peer, { pruned: new Set() });
  }

  /**
   * `peer`'s link to this server closed: it no longer announces anything, and every root pruned on
   * the other links is grafted back there, since the lost link may have been a tree's only way here.
   */
  incomingClosed(peer: string): void {
    this.pullSides.delete(peer);
    for (const [clientId, missing] of this.missing) {
      const index = missing.announcers.indexOf(peer);
      if (index !== -1) missing.announcers.splice(index, 1);
      if (missing.announcers.length === 0) this.missing.delete(clientId);
    }
    for (const [other, side] of this.pullSides) {
      const roots = [...side.pruned];
      let grafted = 0;
      for (const root of roots) if (this.graft(other, root, [], this.options.maxLineBytes)) grafted++;
      if (grafted > 0) {
        this.options.log.info(
          { event: 'tree-regraft', peer: other, lost: peer, roots: grafted },
          `tree: link from ${peer} closed; asked ${other} to push the ${grafted} root(s) it was announcing`,
        );
      }
    }
  }
}
