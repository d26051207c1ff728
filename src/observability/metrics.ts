/**
 * The Prometheus side of {@link ServerObserver} (issue 5, "Watch a running herd"): every hook only
 * bumps a plain number, and the prom-client metrics are filled from those numbers when `/metrics` is
 * scraped. prom-client's own `inc`/`observe` hash their labels on every call (about 0.9 us for one
 * counter and one histogram here), which would be a visible share of an IAMAT; a scrape every few
 * seconds can afford the work instead.
 *
 * Every series carries the label `server` (the server's name). Names, labels and units are listed in
 * docs/observability.md.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { CountedHistogram, LATENCY_BUCKETS_SECONDS, LatencyCounts, scrapedMetricsOf } from './scraped-metrics.js';

import { LINK_STATES, type LinkState, type ServerStatus } from '../core/status.js';
import { COMMAND_KINDS, COMMAND_OUTCOMES, EXPECTED_COMMANDS, KIND_INDEX, OUTCOME_INDEX } from './command-series.js';
import type { CommandKind, CommandOutcome, ServerObserver } from './observer.js';
import { LoopDelayMonitor, PROM_CLIENT_LAG_RESOLUTION_MS, registerLoopDelayMetrics } from './loop-delay.js';

/** Where the observer reads what it does not count itself: clients held, live link states, queues. */
export interface StatusSource {
  /** A snapshot as {@link HerdServer.status} returns it. */
  status(): ServerStatus;
}

/** Options of {@link MetricsObserver}. */
export interface MetricsObserverOptions {
  /** The server's name: the value of the `server` label on every series. */
  readonly serverName: string;
  /**
   * Also register prom-client's default metrics in this observer's registry (`process_*`, `nodejs_*`:
   * CPU, memory, GC, handles, event-loop lag). They describe the whole process. @default true
   */
  readonly defaultMetrics?: boolean;
  /** Upper bounds of the latency buckets, seconds, ascending. @default {@link LATENCY_BUCKETS_SECONDS} */
  readonly latencyBucketsSeconds?: readonly number[];
}

/** Positions in the command counts of the series always shown (even at 0). */
const EXPECTED_COMMAND_INDICES = new Set<number>(
  EXPECTED_COMMANDS.map(([kind, outcome]) => KIND_INDEX[kind] * COMMAND_OUTCOMES.length + OUTCOME_INDEX[outcome]),
);

/** Counts kept per neighbour. */
interface PeerCounts {
  floodSent: number;
  floodStored: number;
  floodStale: number;
  antiEntropyExchanges: number;
  antiEntropyRecords: number;
  /** Last state the link reported (used until a {@link StatusSource} is attached). */
  state: LinkState;
  /** Transitions into `up`. */
  ups: number;
}

/** Counts kept per places source and status. */
interface PlacesCounts {
  readonly source: string;
  readonly status: string;
  count: number;
}

/**
 * A {@link ServerObserver} that exposes what a server does in Prometheus text format, through a
 * prom-client {@link Registry} of its own (never the global one, so several servers can share a
 * process, as in tests).
 *
 * Call {@link attach} with the server once it exists: clients held, link states, queued and dropped
 * updates, uptime and incarnation are read from its {@link HerdServer.status} at scrape time.
 *
 * @example
 *     const metrics = new MetricsObserver({ serverName: 'Alford' });
 *     const server = new HerdServer({ ..., observer: metrics });
 *     metrics.attach(server);
 *     const text = await metrics.metrics();
 */
export class MetricsObserver implements ServerObserver {
  /** The registry holding this server's metrics (and, unless disabled, the process metrics). */
  readonly registry = new Registry();
  private source: StatusSource | undefined;
  private startupDelayMs: number | undefined;
  private readonly boundsMs: Float64Array;
  /** Command counts, `[kind * outcomes + outcome]`. */
  private readonly commandCounts = new Float64Array(COMMAND_KINDS.length * COMMAND_OUTCOMES.length);
  private readonly replyLatency: LatencyCounts[];
  private readonly peers = new Map<string, PeerCounts>();
  private readonly places = new Map<string, PlacesCounts>();
  private readonly placesLatency = new Map<string, LatencyCounts>();
  private readonly openConnections = { client: 0, peer: 0 };
  private readonly openedConnections = { client: 0, peer: 0 };
  /** The event loop's delay, sampled while commands or floods come in (./loop-delay.ts). */
  private readonly loopDelay: LoopDelayMonitor | undefined;

  constructor(options: MetricsObserverOptions) {
    const buckets = options.latencyBucketsSeconds ?? LATENCY_BUCKETS_SECONDS;
    this.boundsMs = Float64Array.from(buckets, (seconds) => seconds * 1000);
    this.replyLatency = COMMAND_KINDS.map(() => new LatencyCounts(this.boundsMs));
    this.registry.setDefaultLabels({ server: options.serverName });
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: PROM_CLIENT_LAG_RESOLUTION_MS });
      this.loopDelay = new LoopDelayMonitor();
      registerLoopDelayMetrics(this.registry, this.loopDelay);
    }
    this.defineMetrics(buckets);
  }

  /** Stops the event-loop monitor (the server is closing). */
  close(): void {
    this.loopDelay?.close();
  }

  /** Records the start-up's longest event-loop block (src/observability/startup-delay.ts). */
  startupDelay(delay: { readonly maxMs: number }): void {
    this.startupDelayMs = delay.maxMs;
  }

  /** Reads clients held, link states and the rest of `/status` from `source` from now on. */
  attach(source: StatusSource): void {
    this.source = source;
  }

  /** The `Content-Type` of {@link metrics}: Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus text format (what `GET /metrics` serves). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * IAMATs answered (every outcome) and floods sent (every peer) since start: what
   * `herd_commands_total{command="IAMAT"}` and `herd_flood_sent_total` sum to, read without a scrape.
   */
  counters(): { iamat: number; floods: number } {
    const k = KIND_INDEX.IAMAT * COMMAND_OUTCOMES.length;
    let iamat = 0;
    for (let o = 0; o < COMMAND_OUTCOMES.length; o++) iamat += this.commandCounts[k + o] as number;
    let floods = 0;
    for (const counts of this.peers.values()) floods += counts.floodSent;
    return { iamat, floods };
  }

  // --- ServerObserver hooks: plain arithmetic only, they run per command. ---

  command(kind: CommandKind, outcome: CommandOutcome, latencyMs: number): void {
    this.loopDelay?.noteWork();
    const k = KIND_INDEX[kind];
    const i = k * COMMAND_OUTCOMES.length + OUTCOME_INDEX[outcome];
    this.commandCounts[i] = (this.commandCounts[i] as number) + 1;
    this.replyLatency[k]?.observe(latencyMs);
  }

  flood(event: 'sent' | 'stored' | 'stale', peer: string, count: number): void {
    // Work is what arrives: a flood taken (sent ones follow a store; anti-entropy lines count as sent).
    if (event !== 'sent') this.loopDelay?.noteWork();
    const counts = this.peer(peer);
    if (event === 'sent') counts.floodSent += count;
    else if (event === 'stored') counts.floodStored += count;
    else counts.floodStale += count;
  }

  linkStatus(peer: string, status: LinkState): void {
    const counts = this.peer(peer);
    counts.state = status;
    if (status === 'up') counts.ups++;
  }

  placesLookup(source: string, status: string, latencyMs: number): void {
    const key = `${source}\u0000${status}`;
    let counts = this.places.get(key);
    if (counts === undefined) {
      counts = { source, status, count: 0 };
      this.places.set(key, counts);
    }
    counts.count++;
    let latency = this.placesLatency.get(source);
    if (latency === undefined) {
      latency = new LatencyCounts(this.boundsMs);
      this.placesLatency.set(source, latency);
    }
    latency.observe(latencyMs);
  }

  connection(kind: 'client' | 'peer', event: 'open' | 'close'): void {
    if (event === 'open') {
      this.openConnections[kind]++;
      this.openedConnections[kind]++;
    } else {
      this.openConnections[kind]--;
    }
  }

  antiEntropy(peer: string, records: number): void {
    const counts = this.peer(peer);
    counts.antiEntropyExchanges++;
    counts.antiEntropyRecords += records;
  }

  /** Nothing to count: stores are counted as floods and commands. Kept empty for the ingest path. */
  stored(): void {
    // Intentionally empty.
  }

  private peer(name: string): PeerCounts {
    let counts = this.peers.get(name);
    if (counts === undefined) {
      counts = {
        floodSent: 0,
        floodStored: 0,
        floodStale: 0,
        antiEntropyExchanges: 0,
        antiEntropyRecords: 0,
        state: 'idle',
        ups: 0,
      };
      this.peers.set(name, counts);
    }
    return counts;
  }

  /** Every neighbour: those the server lists (so quiet ones show 0) and any a hook named. */
  private peerNames(status: ServerStatus | undefined): string[] {
    const names = new Set<string>(status?.links.map((link) => link.peer));
    for (const name of this.peers.keys()) names.add(name);
    return [...names];
  }

  // --- Scrape time: copy the counts into prom-client metrics. ---

  private defineMetrics(buckets: readonly number[]): void {
    // A status snapshot shared by the collectors of one scrape (they run one after another, synchronously).
    let snapshot: { status: ServerStatus | undefined } | undefined;
    const status = (): ServerStatus | undefined => {
      if (snapshot === undefined) {
        snapshot = { status: this.source?.status() };
        queueMicrotask(() => (snapshot = undefined));
      }
      return snapshot.status;
    };
    const { counter, gauge } = scrapedMetricsOf(this.registry);

    counter(
      'herd_commands_total',
      'Client commands answered, by command (IAMAT, WHATSAT, INVALID) and outcome.',
      ['command', 'outcome'],
      (set) => {
        COMMAND_KINDS.forEach((command, k) =>
          COMMAND_OUTCOMES.forEach((outcome, o) => {
            const i = k * COMMAND_OUTCOMES.length + o;
            const value = this.commandCounts[i] as number;
            if (value > 0 || EXPECTED_COMMAND_INDICES.has(i)) set({ command, outcome }, value);
          }),
        );
      },
    );
    new CountedHistogram(
      {
        name: 'herd_reply_latency_seconds',
        help: 'Time from receipt of a command line to its reply being ready, seconds, by command.',
        labelNames: ['command'],
        registry: this.registry,
        bucketsSeconds: buckets,
      },
      () =>
        COMMAND_KINDS.map((command, k) => ({ labels: { command }, latency: this.replyLatency[k] as LatencyCounts })),
    );
    counter(
      'herd_flood_sent_total',
      'Lines written to the neighbour over the outgoing link (AT floods, and anti-entropy lines).',
      ['peer'],
      (set) => {
        for (const peer of this.peerNames(status())) set({ peer }, this.peers.get(peer)?.floodSent ?? 0);
      },
    );
    counter(
      'herd_flood_received_total',
      'AT updates received from the neighbour, by result: stored (newer) or stale (ignored).',
      ['peer', 'result'],
      (set) => {
        for (const peer of this.peerNames(status())) {
          set({ peer, result: 'stored' }, this.peers.get(peer)?.floodStored ?? 0);
          set({ peer, result: 'stale' }, this.peers.get(peer)?.floodStale ?? 0);
        }
      },
    );
    gauge(
      'herd_link_state',
      'State of the outgoing link to each neighbour: 1 for the current state, 0 for the others.',
      ['peer', 'state'],
      (set) => {
        const snapshot = status();
        const current = new Map<string, string>(
          this.peerNames(snapshot).map((peer) => [peer, this.peers.get(peer)?.state ?? 'idle']),
        );
        for (const link of snapshot?.links ?? []) current.set(link.peer, link.status);
        for (const [peer, state] of current)
          for (const each of LINK_STATES) set({ peer, state: each }, each === state ? 1 : 0);
      },
    );
    counter(
      'herd_link_reconnects_total',
      'Times the outgoing link to the neighbour came up again after its first time up.',
      ['peer'],
      (set) => {
        for (const peer of this.peerNames(status())) set({ peer }, Math.max(0, (this.peers.get(peer)?.ups ?? 0) - 1));
      },
    );
    gauge('herd_link_queued_updates', 'Lines waiting to be written to the neighbour.', ['peer'], (set) => {
      for (const link of status()?.links ?? []) set({ peer: link.peer }, link.queued);
    });
    counter(
      'herd_link_dropped_updates_total',
      'Lines dropped at the queue bound while the neighbour was unreachable (anti-entropy repairs them).',
      ['peer'],
      (set) => {
        for (const link of status()?.links ?? []) set({ peer: link.peer }, link.dropped);
      },
    );
    counter(
      'herd_link_timeouts_total',
      'Link connections the failure detector closed after peer.deadAfterMs without a byte received, by side: out (our link to the neighbour) or in (its link to us).',
      ['peer', 'link'],
      (set) => {
        for (const row of status()?.links ?? []) {
          set({ peer: row.peer, link: 'out' }, row.timeouts);
          set({ peer: row.peer, link: 'in' }, row.inboundTimeouts);
        }
      },
    );
    counter(
      'herd_anti_entropy_exchanges_total',
      'Anti-entropy exchanges completed as the offering side: the neighbour said what it was missing and this server sent it (possibly nothing).',
      ['peer'],
      (set) => {
        for (const peer of this.peerNames(status())) set({ peer }, this.peers.get(peer)?.antiEntropyExchanges ?? 0);
      },
    );
    counter('herd_anti_entropy_records_total', 'Records sent to the neighbour by anti-entropy.', ['peer'], (set) => {
      for (const peer of this.peerNames(status())) set({ peer }, this.peers.get(peer)?.antiEntropyRecords ?? 0);
    });
    counter(
      'herd_places_lookups_total',
      'Places look-ups, by source and legacy Nearby Search status (OK, ZERO_RESULTS, UNKNOWN_ERROR, ...).',
      ['source', 'status'],
      (set) => {
        for (const counts of this.places.values()) set({ source: counts.source, status: counts.status }, counts.count);
      },
    );
    new CountedHistogram(
      {
        name: 'herd_places_lookup_seconds',
        help: 'Duration of places look-ups, seconds, by source (time-outs included).',
        labelNames: ['source'],
        registry: this.registry,
        bucketsSeconds: buckets,
      },
      () => [...this.placesLatency].map(([source, latency]) => ({ labels: { source }, latency })),
    );
    gauge('herd_clients', 'Client ids held in the location store.', [], (set) => {
      const snapshot = status();
      if (snapshot !== undefined) set({}, snapshot.clients);
    });
    gauge(
      'herd_connections',
      'Open connections, by kind: client (client port), or peer (peer port).',
      ['kind'],
      (set) => {
        set({ kind: 'client' }, this.openConnections.client);
        set({ kind: 'peer' }, this.openConnections.peer);
      },
    );
    counter(
      'herd_connections_opened_total',
      'Connections accepted, by kind: client (client port), or peer (peer port, handshake or not).',
      ['kind'],
      (set) => {
        set({ kind: 'client' }, this.openedConnections.client);
        set({ kind: 'peer' }, this.openedConnections.peer);
      },
    );
    gauge(
      'herd_startup_event_loop_delay_max_seconds',
      'Longest event-loop block in the first seconds after the server started listening (absent until measured).',
      [],
      (set) => {
        if (this.startupDelayMs !== undefined) set({}, this.startupDelayMs / 1000);
      },
    );
    gauge('herd_uptime_seconds', 'Seconds since the server started listening.', [], (set) => {
      const snapshot = status();
      if (snapshot !== undefined) set({}, snapshot.uptimeMs / 1000);
    });
    gauge(
      'herd_server_info',
      'Always 1; the labels tell the incarnation (changes at every start) and the places source.',
      ['incarnation', 'places_source'],
      (set) => {
        const snapshot = status();
        if (snapshot !== undefined) set({ incarnation: snapshot.incarnation, places_source: snapshot.placesSource }, 1);
      },
    );
  }
}
