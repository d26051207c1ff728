/**
 * The metrics of the server itself (docs/observability.md "Metrics"): clients held, its durable
 * store (commits, failures, queue, size), start-up, uptime and identity. Filled at scrape time from
 * {@link ServerCounts} and the server's `/status` (./metrics.ts says why).
 */
import type { Registry } from 'prom-client';
import { STORE_FAILURE_REASONS } from '../errors.js';
import type { ServerCounts, StatusSnapshot } from './metric-counts.js';
import { CountedHistogram, scrapedMetricsOf } from './scraped-metrics.js';

/** Registers the server and store metrics in `registry`, read from `counts` and `status`. */
export function defineServerMetrics(
  registry: Registry,
  counts: ServerCounts,
  status: StatusSnapshot,
  bucketsSeconds: readonly number[],
): void {
  const { counter, gauge } = scrapedMetricsOf(registry);
  gauge('herd_clients', 'Client ids held in the location store.', [], (set) => {
    const snapshot = status();
    if (snapshot !== undefined) set({}, snapshot.clients);
  });
  new CountedHistogram(
    {
      name: 'herd_store_commit_seconds',
      help: "Time of the durable store's successful commits in their transaction (with the fsync), seconds.",
      labelNames: [],
      registry,
      bucketsSeconds,
    },
    () => [{ labels: {}, latency: counts.storeCommits }],
  );
  counter(
    'herd_store_commit_failures_total',
    'Failed commits of the durable store, by reason: full, read_only, missing, corrupt, locked, writer_exited, io (the rows stay queued and are retried).',
    ['reason'],
    (set) => {
      STORE_FAILURE_REASONS.forEach((reason, i) => {
        if (reason !== 'overflow') set({ reason }, counts.storeFailures[i] as number);
      });
    },
  );
  gauge(
    'herd_store_pending_rows',
    'Rows written to the durable store and not yet committed (with a rewrite of the table under way, its rows too).',
    [],
    (set) => {
      const store = status()?.store;
      if (store !== undefined) set({}, store.pendingRows);
    },
  );
  gauge('herd_store_bytes', 'Size of the durable store on disk (the SQLite file and its WAL), bytes.', [], (set) => {
    const bytes = status()?.store.bytes;
    if (bytes !== undefined) set({}, bytes);
  });
  counter(
    'herd_store_dropped_rows_total',
    "Rows dropped from the durable store's queue at MAX_PENDING_ROWS while commits failed (the table is rewritten from memory once a commit succeeds).",
    [],
    (set) => set({}, counts.storeDroppedRows),
  );
  gauge(
    'herd_startup_event_loop_delay_max_seconds',
    'Longest event-loop block in the first seconds after the server started listening (absent until measured).',
    [],
    (set) => {
      if (counts.startupDelayMs !== undefined) set({}, counts.startupDelayMs / 1000);
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
