/**
 * The Prometheus registry of a {@link MetricsObserver} (./metrics.ts): prom-client, every series
 * definition (./metrics-clients.ts, ./metrics-links.ts, ./metrics-server.ts) and the process's own:
 * prom-client's process metrics, the loop's blocks and its reads in slices. Loaded on its own
 * (`await import()`) once the server listens, so that a start does not load prom-client before it
 * accepts clients; the observer counts into plain numbers from the first command on, and the series
 * read them at scrape time.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerStatus } from '../core/status.js';
import type { ServerCounts } from './metric-counts.js';
import { defineClientMetrics } from './metrics-clients.js';
import { defineLinkMetrics } from './metrics-links.js';
import { defineServerMetrics } from './metrics-server.js';
import { LOOP_BLOCK_MS, type LoopDelay, type LoopDelayMonitor } from './loop-delay.js';
import { scrapedMetricsOf } from './scraped-metrics.js';
import { READ_SLICE_MS, READ_SLICES, type ReadSlices } from '../core/read-slices.js';

/** What {@link buildRegistry} fills its series from. */
export interface RegistrySources {
  /** The value of the `server` label on every series. */
  readonly serverName: string;
  /** The observer's counts. */
  readonly counts: ServerCounts;
  /** Upper bounds of the latency buckets, seconds, ascending. */
  readonly bucketsSeconds: readonly number[];
  /** Clients held, link states and the rest of `/status`, read once per scrape (undefined before attach). */
  readonly status: () => ServerStatus | undefined;
  /**
   * With prom-client's process metrics (`process_*`, `nodejs_*`), the loop delay they report; with it
   * too, the process's reads in slices ({@link registerReadSliceMetrics}).
   */
  readonly loopDelay: LoopDelayMonitor | undefined;
}

/** A registry of its own (never prom-client's global one, so several servers can share a process). */
export function buildRegistry(sources: RegistrySources): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ server: sources.serverName });
  if (sources.loopDelay !== undefined) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: PROM_CLIENT_LAG_RESOLUTION_MS });
    registerLoopDelayMetrics(registry, sources.loopDelay);
    registerReadSliceMetrics(registry, READ_SLICES);
  }
  defineClientMetrics(registry, sources.counts, sources.bucketsSeconds);
  defineLinkMetrics(registry, sources.counts, sources.status);
  defineServerMetrics(registry, sources.counts, sources.status, sources.bucketsSeconds);
  return registry;
}

/**
 * The sampling period to give prom-client's own event-loop monitor, ms: an hour, so that it never
 * wakes an idle server; its figures are replaced by {@link registerLoopDelayMetrics}'.
 */
export const PROM_CLIENT_LAG_RESOLUTION_MS = 3_600_000;

/** The help text of each figure, as prom-client words it. */
const LOOP_DELAY_HELP: Readonly<Record<keyof LoopDelay, string>> = {
  min: 'The minimum recorded event loop delay.',
  max: 'The maximum recorded event loop delay.',
  mean: 'The mean of the recorded event loop delays.',
  stddev: 'The standard deviation of the recorded event loop delays.',
  p50: 'The 50th percentile of the recorded event loop delays.',
  p90: 'The 90th percentile of the recorded event loop delays.',
  p99: 'The 99th percentile of the recorded event loop delays.',
};

/**
 * Serves prom-client's `nodejs_eventloop_lag_<figure>_seconds` (min, max, mean, stddev, p50, p90,
 * p99) from `monitor` instead: replaces the ones `collectDefaultMetrics` registered in `registry`, and
 * reads the monitor once per scrape.
 */
export function registerLoopDelayMetrics(registry: Registry, monitor: LoopDelayMonitor): void {
  let reading: LoopDelay | undefined;
  const { gauge, counter } = scrapedMetricsOf(registry);
  for (const figure of Object.keys(LOOP_DELAY_HELP) as (keyof LoopDelay)[]) {
    const name = `nodejs_eventloop_lag_${figure}_seconds`;
    registry.removeSingleMetric(name);
    gauge(name, LOOP_DELAY_HELP[figure], [], (set) => {
      if (reading === undefined) {
        reading = monitor.read();
        // The gauges of one scrape are collected one after another, synchronously.
        queueMicrotask(() => (reading = undefined));
      }
      set({}, reading[figure]);
    });
  }
  counter(
    'herd_event_loop_blocks_total',
    `Event-loop turns with work busier than ${LOOP_BLOCK_MS} ms (the loop answered nothing else meanwhile).`,
    [],
    (set) => set({}, monitor.blocks),
  );
  gauge(
    'herd_event_loop_block_max_seconds',
    'The busiest of those turns since the server started, seconds (0 before the first).',
    [],
    (set) => set({}, monitor.longestBlockMs / 1000),
  );
}

/**
 * Serves the counts of `slices` (the process's reads in slices, src/core/read-slices.ts):
 * `herd_read_slice_pauses_total{kind}` (`kind` `peer`: a link, or `client`),
 * `herd_read_held_chunks_total` and `herd_read_hold_bound_reached_total`, read once per scrape.
 */
export function registerReadSliceMetrics(registry: Registry, slices: ReadSlices): void {
  const { counter } = scrapedMetricsOf(registry);
  counter(
    'herd_read_slice_pauses_total',
    `Connections paused for a turn because the event-loop turn's reads had spent their ${READ_SLICE_MS} ms slice, by kind: peer (a link), client.`,
    ['kind'],
    (set) => {
      set({ kind: 'peer' }, slices.linkPauses);
      set({ kind: 'client' }, slices.clientPauses);
    },
  );
  counter(
    'herd_read_held_chunks_total',
    'Chunks of client connections held (put back, the connection paused) because a link was behind: the order rule.',
    [],
    (set) => set({}, slices.holds),
  );
  counter(
    'herd_read_hold_bound_reached_total',
    `Times clients had been held for ${slices.maxClientHoldMs} ms while links stayed behind and were then read beside them, the order rule giving way (an overload; once per spell of links behind).`,
    [],
    (set) => set({}, slices.holdBoundsReached),
  );
}
