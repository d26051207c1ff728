/**
 * The metrics of the client port (docs/observability.md "Metrics"): commands and their latency,
 * places look-ups, connections, and connections refused at accept. Filled at scrape time from
 * {@link ServerCounts} (./metrics.ts says why).
 */
import type { Registry } from 'prom-client';
import { COMMAND_KINDS, COMMAND_OUTCOMES, EXPECTED_COMMANDS, KIND_INDEX, OUTCOME_INDEX } from './command-series.js';
import type { ServerCounts } from './metric-counts.js';
import { ACCEPT_FAILURE_REASONS } from './observer.js';
import type { LatencyCounts } from './latency-counts.js';
import { CountedHistogram, scrapedMetricsOf, type ScrapeFill } from './scraped-metrics.js';

/** Positions in the command counts of the series always shown (even at 0). */
const EXPECTED_COMMAND_INDICES = new Set<number>(
  EXPECTED_COMMANDS.map(([kind, outcome]) => KIND_INDEX[kind] * COMMAND_OUTCOMES.length + OUTCOME_INDEX[outcome]),
);

/** Sets one series a connection kind (`client`, `peer`) from `perKind`. */
function byKind(
  set: Parameters<ScrapeFill<'kind'>>[0],
  perKind: { readonly client: number; readonly peer: number },
): void {
  for (const kind of ['client', 'peer'] as const) set({ kind }, perKind[kind]);
}

/** Registers the client-port metrics in `registry`, read from `counts`. */
export function defineClientMetrics(registry: Registry, counts: ServerCounts, buckets: readonly number[]): void {
  const { counter, gauge } = scrapedMetricsOf(registry);
  counter(
    'herd_commands_total',
    'Client commands answered, by command (IAMAT, WHATSAT, INVALID) and outcome.',
    ['command', 'outcome'],
    (set) => {
      COMMAND_KINDS.forEach((command, k) =>
        COMMAND_OUTCOMES.forEach((outcome, o) => {
          const i = k * COMMAND_OUTCOMES.length + o;
          const value = counts.commands[i] as number;
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
      registry,
      bucketsSeconds: buckets,
    },
    () =>
      COMMAND_KINDS.map((command, k) => ({ labels: { command }, latency: counts.replyLatency[k] as LatencyCounts })),
  );
  counter(
    'herd_places_lookups_total',
    'Places look-ups, by source and legacy Nearby Search status (OK, ZERO_RESULTS, UNKNOWN_ERROR, ...).',
    ['source', 'status'],
    (set) => {
      for (const each of counts.places.values()) set({ source: each.source, status: each.status }, each.count);
    },
  );
  new CountedHistogram(
    {
      name: 'herd_places_lookup_seconds',
      help: 'Duration of places look-ups, seconds, by source (time-outs included).',
      labelNames: ['source'],
      registry,
      bucketsSeconds: buckets,
    },
    () => [...counts.placesLatency].map(([source, latency]) => ({ labels: { source }, latency })),
  );
  gauge('herd_connections', 'Open connections, by kind: client (client port), or peer (peer port).', ['kind'], (set) =>
    byKind(set, counts.openConnections),
  );
  counter(
    'herd_connections_opened_total',
    'Connections accepted, by kind: client (client port), or peer (peer port, handshake or not).',
    ['kind'],
    (set) => byKind(set, counts.openedConnections),
  );
  counter(
    'herd_accept_failures_total',
    'Connections refused at accept, on either port, by reason: descriptors (the client port leaves the last DESCRIPTOR_RESERVE file descriptors to links and the store), max_connections, max_connections_per_address, accept_error (the listener could not accept).',
    ['reason'],
    (set) => {
      ACCEPT_FAILURE_REASONS.forEach((reason, i) => set({ reason }, counts.acceptFailures[i] as number));
    },
  );
}
