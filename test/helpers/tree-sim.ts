/**
 * A herd of tree routers (src/peers/plumtree.ts) in memory: each server a store and a router, each
 * link two connections (one per dialler) whose lines are delivered in order per direction, in a
 * seeded random order across connections, parsed by the real link reader's parser. A connection
 * can be cut silently (it drops everything), closed (both ends told, as the failure detector would)
 * and opened again (both ends told, and the dialler's whole table sent as an anti-entropy exchange
 * would). Ticks reach every router at once, as the wall-clock-aligned heartbeat ticks do.
 */
import { parseLinkMessage } from '../../src/peers/link-messages.js';
import { HopCounts } from '../../src/peers/hop-counts.js';
import { TreeRouter } from '../../src/peers/plumtree.js';
import { FieldOffsets } from '../../src/protocol/fields.js';
import type { AtRecord } from '../../src/protocol/at-record.js';
import { LocationStore } from '../../src/store/location-store.js';
import { capturingLogger } from './capture-log.js';

/** A line on its way, and whether it belongs to an anti-entropy exchange (whose duplicates never prune). */
interface Line {
  readonly text: string;
  readonly sync: boolean;
}

/** The connection `dialler` opened to `acceptor`: updates and IHAVEs forward, PRUNEs and GRAFTs back. */
interface Connection {
  readonly dialler: string;
  readonly acceptor: string;
  state: 'up' | 'cut' | 'closed';
  forward: Line[];
  back: Line[];
}

interface SimServer {
  readonly store: LocationStore;
  readonly router: TreeRouter;
  readonly neighbours: string[];
}

/** Counts of lines delivered, by verb. */
export type LineCounts = Record<'AT' | 'IHAVE' | 'PRUNE' | 'GRAFT', number>;

/** Options of {@link SimHerd}. */
export interface SimHerdOptions {
  readonly names: readonly string[];
  readonly links: readonly (readonly [string, string])[];
  /** Uniform randoms in [0, 1): the delivery order. */
  readonly random: () => number;
  /** @default 1000 */
  readonly intervalMs?: number;
  /** @default 100000 */
  readonly maxPending?: number;
  /** Give the routers the hop counts of `links`, as `herd serve` does. @default true */
  readonly hops?: boolean;
}

/** The herd in memory. */
export class SimHerd {
  readonly servers = new Map<string, SimServer>();
  readonly delivered: LineCounts = { AT: 0, IHAVE: 0, PRUNE: 0, GRAFT: 0 };
  nowMs = 0;
  private readonly connections = new Map<string, Connection>();
  private readonly random: () => number;
  private readonly intervalMs: number;
  private readonly fields = new FieldOffsets(6);

  constructor(options: SimHerdOptions) {
    this.random = options.random;
    this.intervalMs = options.intervalMs ?? 1000;
    const { logger } = capturingLogger();
    const neighboursOf = new Map(options.names.map((name): [string, string[]] => [name, []]));
    for (const [a, b] of options.links) {
      if (!neighboursOf.has(a) || !neighboursOf.has(b)) throw new Error(`no server ${a} or ${b}`);
      neighboursOf.get(a)?.push(b);
      neighboursOf.get(b)?.push(a);
    }
    for (const name of options.names) {
      const store = new LocationStore();
      const neighbours = neighboursOf.get(name) as string[];
      const router = new TreeRouter({
        store,
        hops: options.hops === false ? undefined : new HopCounts(options.links, neighbours),
        push: (peer, line) => this.push(name, peer, line),
        reply: (peer, line) => this.reply(name, peer, line),
        maxLineBytes: 4096,
        maxPending: options.maxPending ?? 100_000,
        intervalMs: this.intervalMs,
        log: logger,
      });
      this.servers.set(name, { store, router, neighbours });
    }
    for (const [a, b] of options.links) {
      for (const [dialler, acceptor] of [
        [a, b],
        [b, a],
      ] as const) {
        this.connections.set(`${dialler}>${acceptor}`, { dialler, acceptor, state: 'closed', forward: [], back: [] });
      }
    }
    for (const [a, b] of options.links) this.open(a, b, false);
  }

  server(name: string): SimServer {
    const server = this.servers.get(name);
    if (server === undefined) throw new Error(`no server ${name}`);
    return server;
  }

  private connection(dialler: string, acceptor: string): Connection {
    const connection = this.connections.get(`${dialler}>${acceptor}`);
    if (connection === undefined) throw new Error(`no link ${dialler}-${acceptor}`);
    return connection;
  }

  private push(from: string, peer: string, text: string, sync = false): void {
    const connection = this.connection(from, peer);
    if (connection.state === 'up') connection.forward.push({ text, sync });
  }

  private reply(from: string, peer: string, text: string): boolean {
    const connection = this.connection(peer, from);
    if (connection.state === 'closed') return false;
    if (connection.state === 'up') connection.back.push({ text, sync: false });
    return true;
  }

  /** A client's IAMAT at `origin`: stored there and spread. */
  iamat(origin: string, clientId: string, time: string, location = '+1+1'): AtRecord {
    const record = { atLine: `AT ${origin} +0.000000001 ${clientId} ${location} ${time}`, clientId };
    const server = this.server(origin);
    if (server.store.offer(record)) server.router.flood(record, undefined, server.neighbours);
    return record;
  }

  /** Delivers one line of a random connection that has some; false when none has. */
  deliverOne(): boolean {
    const busy = [...this.connections.values()].filter((c) => c.forward.length > 0 || c.back.length > 0);
    if (busy.length === 0) return false;
    const connection = busy[Math.floor(this.random() * busy.length)] as Connection;
    const backward = connection.forward.length === 0 || (connection.back.length > 0 && this.random() < 0.5);
    const line = (backward ? connection.back.shift() : connection.forward.shift()) as Line;
    const to = backward ? connection.dialler : connection.acceptor;
    const from = backward ? connection.acceptor : connection.dialler;
    const bytes = Buffer.from(line.text, 'latin1');
    const message = parseLinkMessage(bytes, 0, bytes.length, this.fields);
    const server = this.server(to);
    if (message.type === 'AT') {
      this.delivered.AT++;
      const record = { atLine: message.atLine, clientId: message.clientId };
      if (server.store.offer(record)) server.router.flood(record, from, server.neighbours);
      else if (!line.sync) server.router.notStored(record, from);
    } else if (message.type === 'IHAVE' || message.type === 'PRUNE' || message.type === 'GRAFT') {
      this.delivered[message.type]++;
      server.router.onMessage(from, message, this.nowMs);
    } else {
      throw new Error(`unexpected line ${line.text}`);
    }
    return true;
  }

  /** Delivers lines until none is on its way. */
  drain(): void {
    while (this.deliverOne());
  }

  /** One tick on every router, `intervalMs` after the last. */
  tick(): void {
    this.nowMs += this.intervalMs;
    for (const server of this.servers.values()) server.router.tick(this.nowMs);
  }

  /** Drains, ticks and drains again `ticks` times: what is due is announced and asked for. */
  settle(ticks = 3): void {
    this.drain();
    for (let i = 0; i < ticks; i++) {
      this.tick();
      this.drain();
    }
  }

  /** Both connections between `a` and `b` drop everything from now on, unknown to either end. */
  cut(a: string, b: string): void {
    for (const connection of [this.connection(a, b), this.connection(b, a)]) {
      connection.state = 'cut';
      connection.forward = [];
      connection.back = [];
    }
  }

  /** Both connections between `a` and `b` close, and both ends know. */
  close(a: string, b: string): void {
    for (const connection of [this.connection(a, b), this.connection(b, a)]) {
      if (connection.state === 'closed') continue;
      connection.state = 'closed';
      connection.forward = [];
      connection.back = [];
      this.server(connection.dialler).router.outgoingDown(connection.acceptor);
      this.server(connection.acceptor).router.incomingClosed(connection.dialler);
    }
  }

  /** Both connections between `a` and `b` come up; with `sync`, each dialler sends its whole table. */
  open(a: string, b: string, sync = true): void {
    for (const connection of [this.connection(a, b), this.connection(b, a)]) {
      if (connection.state === 'up') continue;
      connection.state = 'up';
      this.server(connection.dialler).router.outgoingUp(connection.acceptor);
      this.server(connection.acceptor).router.incomingUp(connection.dialler);
      if (!sync) continue;
      for (const atLine of this.server(connection.dialler).store.atLines())
        this.push(connection.dialler, connection.acceptor, atLine, true);
    }
  }

  /** Servers whose table lacks `record` (or holds an older line for its client). */
  lacking(record: AtRecord): string[] {
    return [...this.servers]
      .filter(([, server]) => server.store.atLineOf(record.clientId) !== record.atLine)
      .map(([name]) => name);
  }
}
