/**
 * The Prometheus side of {@link ServerObserver} (docs/observability.md "Metrics"): every hook only
 * bumps a plain number, and the prom-client metrics are filled from those numbers when `/metrics` is
 * scraped. prom-client's own `inc`/`observe` hash their labels on every call (about 0.9 us for one
 * counter and one histogram here), which would be a visible share of an IAMAT; a scrape every few
 * seconds can afford the work instead.
 *
 * Every series carries the label `server` (the server's name). Names, labels and units are listed in
 * docs/observability.md.
 */
import type { Registry } from 'prom-client';
import type { LinkState, ServerLoad, ServerStatus } from '../core/status.js';
import { nextTurn } from '../core/timers.js';
import type { StoreFailureReason } from '../errors.js';
import { COMMAND_OUTCOMES, KIND_INDEX, OUTCOME_INDEX } from './command-series.js';
import { ServerCounts } from './metric-counts.js';
import type { AcceptFailureReason, ServerObserver } from './observer.js';
import type { CommandKind, CommandOutcome } from '../server/commands/outcomes.js';
import { LATENCY_BUCKETS_SECONDS, LatencyCounts } from './latency-counts.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics-settings.js';
import { LOOP_DELAY_RESOLUTION_MS, LoopDelayMonitor } from './loop-delay.js';

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
  /**
   * Called at the end of each event-loop turn with work that was busier than `LOOP_BLOCK_MS` (20 ms),
   * with its busy time, ms (./loop-delay.ts); needs the default metrics. The server logs `loop-blocked`.
   */
  readonly onLoopBlock?: (busyMs: number) => void;
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
  private source: StatusSource | undefined;
  private readonly counts: ServerCounts;
  private readonly serverName: string;
  private readonly bucketsSeconds: readonly number[];
  /**
   * The event loop's delay and its blocks, sampled in turns with work (./loop-delay.ts): commands,
   * floods taken, link changes, connections, anti-entropy, commits and look-ups.
   */
  private readonly loopDelay: LoopDelayMonitor | undefined;
  /** The Prometheus registry, once {@link prepare} loaded it. */
  private registry: Promise<Registry> | undefined;

  constructor(options: MetricsObserverOptions) {
    this.serverName = options.serverName;
    this.bucketsSeconds = options.latencyBucketsSeconds ?? LATENCY_BUCKETS_SECONDS;
    this.counts = new ServerCounts(Float64Array.from(this.bucketsSeconds, (seconds) => seconds * 1000));
    if (options.defaultMetrics ?? true) this.loopDelay = new LoopDelayMonitor(undefined, options.onLoopBlock);
  }

  /**
   * Loads prom-client and registers every series (./metrics-registry.ts): the server calls it once it
   * listens; {@link metrics} waits for it. Counting does not wait: the hooks count from the start.
   */
  prepare(): Promise<Registry> {
    if (this.registry === undefined) {
      // A status snapshot shared by the collectors of one scrape (they run one after another, synchronously).
      let snapshot: { status: ServerStatus | undefined } | undefined;
      const status = (): ServerStatus | undefined => {
        if (snapshot === undefined) {
          snapshot = { status: this.source?.status() };
          queueMicrotask(() => (snapshot = undefined));
        }
        return snapshot.status;
      };
      // The registry is built a turn after prom-client is loaded: the bundle evaluates the import at
      // once, and the two together were one turn of over 20 ms at a herd's start (serve-admin.ts).
      this.registry = import('./metrics-registry.js').then(async ({ buildRegistry }) => {
        await nextTurn();
        return buildRegistry({
          serverName: this.serverName,
          counts: this.counts,
          bucketsSeconds: this.bucketsSeconds,
          status,
          loopDelay: this.loopDelay,
        });
      });
    }
    return this.registry;
  }

  /** Stops the event-loop monitor (the server is closing). */
  close(): void {
    this.loopDelay?.close();
  }

  /** Records the start-up's longest event-loop block (src/observability/startup-delay.ts). */
  startupDelay(delay: { readonly maxMs: number }): void {
    this.counts.startupDelayMs = delay.maxMs;
  }

  /** Reads clients held, link states and the rest of `/status` from `source` from now on. */
  attach(source: StatusSource): void {
    this.source = source;
  }

  /** The `Content-Type` of {@link metrics}: Prometheus text format 0.0.4. */
  get contentType(): string {
    return PROMETHEUS_CONTENT_TYPE;
  }

  /** Every metric in Prometheus text format (what `GET /metrics` serves); loads the registry first if need be. */
  async metrics(): Promise<string> {
    return (await this.prepare()).metrics();
  }

  /**
   * IAMATs answered (every outcome) and floods sent (every peer) since start: what
   * `herd_commands_total{command="IAMAT"}` and `herd_flood_sent_total` sum to, read without a scrape.
   */
  counters(): Pick<ServerLoad, 'iamat' | 'floods'> {
    const k = KIND_INDEX.IAMAT * COMMAND_OUTCOMES.length;
    let iamat = 0;
    for (let o = 0; o < COMMAND_OUTCOMES.length; o++) iamat += this.counts.commands[k + o] as number;
    let floods = 0;
    for (const counts of this.counts.peers.values()) floods += counts.floodSent;
    return { iamat, floods };
  }
  /**
   * What `/status` adds to the server's own snapshot: {@link counters} and the event-loop delay p99
   * (0 without the default metrics, which own the delay monitor).
   */
  load(): ServerLoad {
    const p99Ms = (this.loopDelay?.peekP99() ?? 0) * 1000;
    // Microseconds are the monitor's own precision.
    const loopDelayP99Ms = Math.round(Math.max(0, p99Ms - LOOP_DELAY_RESOLUTION_MS) * 1000) / 1000;
    return { ...this.counters(), loopDelayP99Ms };
  }

  // --- ServerObserver hooks: plain arithmetic only, they run per command. ---

  command(kind: CommandKind, outcome: CommandOutcome, latencyMs: number): void {
    this.loopDelay?.noteWork();
    const k = KIND_INDEX[kind];
    const i = k * COMMAND_OUTCOMES.length + OUTCOME_INDEX[outcome];
    const commands = this.counts.commands;
    commands[i] = (commands[i] as number) + 1;
    this.counts.replyLatency[k]?.observe(latencyMs);
  }

  flood(event: 'sent' | 'stored' | 'stale', peer: string, count: number, bytes = 0): void {
    // Work is what arrives: a flood taken (sent ones follow a store; anti-entropy lines count as sent).
    if (event !== 'sent') this.loopDelay?.noteWork();
    const counts = this.counts.peer(peer);
    if (event === 'sent') {
      counts.floodSent += count;
      counts.floodSentBytes += bytes;
    } else if (event === 'stored') counts.floodStored += count;
    else counts.floodStale += count;
  }

  linkStatus(peer: string, status: LinkState): void {
    this.loopDelay?.noteWork();
    const counts = this.counts.peer(peer);
    counts.state = status;
    if (status === 'up') counts.ups++;
  }

  placesLookup(source: string, status: string, latencyMs: number): void {
    this.loopDelay?.noteWork();
    const key = `${source}\u0000${status}`;
    let counts = this.counts.places.get(key);
    if (counts === undefined) {
      counts = { source, status, count: 0 };
      this.counts.places.set(key, counts);
    }
    counts.count++;
    let latency = this.counts.placesLatency.get(source);
    if (latency === undefined) {
      latency = new LatencyCounts(this.counts.boundsMs);
      this.counts.placesLatency.set(source, latency);
    }
    latency.observe(latencyMs);
  }

  connection(kind: 'client' | 'peer', event: 'open' | 'close'): void {
    this.loopDelay?.noteWork();
    if (event === 'open') {
      this.counts.openConnections[kind]++;
      this.counts.openedConnections[kind]++;
    } else {
      this.counts.openConnections[kind]--;
    }
  }

  antiEntropy(peer: string, records: number): void {
    this.loopDelay?.noteWork();
    const counts = this.counts.peer(peer);
    counts.antiEntropyExchanges++;
    counts.antiEntropyRecords += records;
  }

  /** Nothing to count: stores are counted as floods and commands. Kept empty for the ingest path. */
  stored(): void {
    // Intentionally empty.
  }

  storeCommit(latencyMs: number): void {
    this.loopDelay?.noteWork();
    this.counts.storeCommits.observe(latencyMs);
  }

  storeFailure(reason: StoreFailureReason): void {
    this.counts.storeFailure(reason);
  }

  storeDropped(rows: number): void {
    this.counts.storeDroppedRows += rows;
  }

  acceptFailure(_port: 'client' | 'peer', reason: AcceptFailureReason): void {
    this.counts.acceptFailure(reason);
  }
}
