/**
 * prom-client metrics whose values are counted by the server's own hooks and copied in at scrape
 * time (src/observability/metrics.ts says why: prom-client's `inc`/`observe` hash labels on every
 * call): counters and gauges filled by a callback, and latency histograms read from plain counts.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LatencyCounts } from './latency-counts.js';

/** Fills a metric's series at scrape time: call `set` once per series. */
export type ScrapeFill<L extends string> = (set: (labels: Record<L, string>, value: number) => void) => void;

/**
 * Registers a counter (`kind` `counter`) or gauge whose series are set at scrape time by `fill`:
 * each scrape resets the metric, then writes every series `fill` sets (a counter by `inc`, since
 * prom-client counters have no `set`).
 */
export function scrapedMetric<L extends string>(
  kind: 'counter' | 'gauge',
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  fill: ScrapeFill<L>,
): void {
  const configuration = { name, help, labelNames, registers: [registry] };
  if (kind === 'counter') {
    const counter: Counter<L> = new Counter<L>({
      ...configuration,
      collect: () => {
        counter.reset();
        fill((labels, value) => counter.inc(labels as Partial<Record<L, string>>, value));
      },
    });
  } else {
    const gauge: Gauge<L> = new Gauge<L>({
      ...configuration,
      collect: () => {
        gauge.reset();
        fill((labels, value) => gauge.set(labels as Partial<Record<L, string>>, value));
      },
    });
  }
}

/** What {@link Histogram.get} resolves to (prom-client does not export the type by name). */
type HistogramSnapshot = Awaited<ReturnType<Histogram['get']>>;
type HistogramValue = HistogramSnapshot['values'][number];

/**
 * A prom-client histogram whose series are read from {@link LatencyCounts} at scrape time instead of
 * being fed through `observe()`. It overrides both methods the registry reads a metric through.
 */
export class CountedHistogram extends Histogram<string> {
  private readonly read: () => Iterable<{ labels: Record<string, string>; latency: LatencyCounts }>;
  private readonly boundsSeconds: readonly number[];
  private readonly metricName: string;
  private readonly metricHelp: string;

  constructor(
    options: {
      name: string;
      help: string;
      labelNames: string[];
      registry: Registry;
      bucketsSeconds: readonly number[];
    },
    read: () => Iterable<{ labels: Record<string, string>; latency: LatencyCounts }>,
  ) {
    super({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      buckets: [...options.bucketsSeconds],
      registers: [options.registry],
    });
    this.read = read;
    this.boundsSeconds = options.bucketsSeconds;
    this.metricName = options.name;
    this.metricHelp = options.help;
  }

  private snapshot(): HistogramSnapshot {
    const values: HistogramValue[] = [];
    for (const { labels, latency } of this.read()) {
      let cumulative = 0;
      this.boundsSeconds.forEach((bound, i) => {
        cumulative += latency.counts[i] as number;
        values.push({ labels: { ...labels, le: bound }, value: cumulative, metricName: `${this.metricName}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: latency.count, metricName: `${this.metricName}_bucket` });
      values.push({ labels, value: latency.sumMs / 1000, metricName: `${this.metricName}_sum` });
      values.push({ labels, value: latency.count, metricName: `${this.metricName}_count` });
    }
    return {
      name: this.metricName,
      help: this.metricHelp,
      type: 'histogram',
      aggregator: 'sum',
      values,
      collect: () => undefined,
    } as unknown as HistogramSnapshot;
  }

  override async get(): Promise<HistogramSnapshot> {
    return this.snapshot();
  }

  /** What prom-client's registry calls (in preference to `get`) when it writes the text format. */
  async getForPromString(): Promise<HistogramSnapshot> {
    return this.snapshot();
  }
}

/** {@link scrapedMetric} counters and gauges bound to one registry. */
export function scrapedMetricsOf(registry: Registry): {
  counter: <L extends string>(name: string, help: string, labelNames: L[], fill: ScrapeFill<L>) => void;
  gauge: <L extends string>(name: string, help: string, labelNames: L[], fill: ScrapeFill<L>) => void;
} {
  return {
    counter: (name, help, labelNames, fill) => scrapedMetric('counter', registry, name, help, labelNames, fill),
    gauge: (name, help, labelNames, fill) => scrapedMetric('gauge', registry, name, help, labelNames, fill),
  };
}
