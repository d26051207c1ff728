/**
 * The soak (docs/benchmarks.md "Soak"): does a herd under steady load with connection churn keep its
 * memory and descriptors flat? The default herd (five `herd serve` processes, durable stores, the
 * run's log level) takes 1,800 requests/s spread over the five servers, each on a new connection,
 * over 10,000 client ids, 80% IAMAT and 20% WHATSAT (`bench/churn-load.ts`, every reply checked),
 * for 30 minutes (`--soak-minutes`), while one link (Alford-Hamilton) is cut for 10 s every 5
 * minutes. Every minute it prints, and keeps, each server's RSS, the memory it retains after two full
 * collections, its live heap and open descriptors with the load's figures for that minute.
 *
 * The verdict: after the warm-up, the level of every server's retained memory (RSS without the room
 * V8 keeps for garbage: `ServerSample` in bench/soak-herd.ts), the median of its last 5 samples over
 * the median of its 5 from minute 5 on, grows by at most 5%, and its descriptors stay within a few
 * of theirs. Plain RSS is reported beside it, its growth and trend: it also swings with how much
 * heap V8 reserves, which follows the load, not a leak. Not in a default run (`--only soak` runs
 * it); with `--quick`, 20 s with a sample every 5 s. Not with `--config` (it reads the processes it
 * starts).
 */
import type { BenchContext } from '../bench-context.js';
import { ScenarioSkipped } from '../bench-error.js';
import { benchDir, sleep, whenPlacesReady } from '../bench-processes.js';
import { ChurnLoad, type ChurnWindow } from '../churn-load.js';
import { summarize } from '../latency.js';
import { median } from '../median.js';
import type { ServerSample } from '../soak-herd.js';
import { startSoakHerd } from '../soak-herd.js';

/** Requests per second, all servers together. */
export const SOAK_RATE = 1800;
/** Distinct client ids. */
export const SOAK_CLIENTS = 10_000;
/** Share of IAMATs. */
export const SOAK_IAMAT_SHARE = 0.8;
/** Growth of retained memory's level after the warm-up that the soak tolerates. */
export const SOAK_RETAINED_TOLERANCE = 0.05;
/**
 * Samples in each of the two windows whose medians the verdict compares (see {@link soakLevelGrowth}):
 * five minutes in a full run.
 */
export const SOAK_LEVEL_SAMPLES = 5;
/** Growth of a server's open descriptors over the reference that the soak tolerates. */
export const SOAK_FDS_TOLERANCE = 5;
/** Connections of the load open at once; more due are counted as skipped. */
const SOAK_MAX_OPEN = 2000;
/** A request without its whole reply after this long counts as timed out, ms. */
const SOAK_TIMEOUT_MS = 10_000;
/** A WHATSAT names a client id acknowledged at least this long ago, ms. */
const SOAK_SETTLE_MS = 2000;

/** One sample: the load since the previous one, and every server's memory now. */
export interface SoakSample {
  /** Time since the load started, s. */
  readonly at_s: number;
  /** Requests offered per second (started, or skipped). */
  readonly requests_per_s: number;
  /** Right replies per second: what the herd served. */
  readonly served_per_s: number;
  readonly iamat_share: number;
  readonly ok: number;
  readonly wrong: number;
  readonly failed: number;
  readonly timed_out: number;
  readonly skipped: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly servers: readonly ServerSample[];
}

/** What the soak measured, as `--json` reports it. */
export interface SoakResult {
  readonly duration_s: number;
  readonly sample_every_s: number;
  readonly rate_per_s: number;
  readonly clients: number;
  /** The link cut and healed, and how often. */
  readonly flap_link: string;
  readonly flaps: number;
  readonly flap_every_s: number;
  readonly flap_down_s: number;
  /** Before the load: every server's memory with the herd up and idle. */
  readonly idle: readonly ServerSample[];
  readonly samples: readonly SoakSample[];
  /** When the reference sample was taken (minute 5 in a full run), s. */
  readonly reference_s: number;
  /**
   * The verdict's figure ({@link soakLevelGrowth}): the growth of retained memory's level from the
   * first {@link SOAK_LEVEL_SAMPLES} samples from the reference on to the last ones, per cent, the
   * largest of any server (null when the run is too short for two windows).
   */
  readonly retained_level_growth_percent: number | null;
  /** The largest retained memory of any one sample after the reference over its value at it, per cent. */
  readonly retained_growth_max_percent: number | null;
  /**
   * The steepest trend of any server's retained memory after the reference: the least-squares slope
   * of its samples, MB per minute (null with fewer than two samples after it). A leak climbs
   * steadily; the swings of garbage collection and of a backlog do not.
   */
  readonly retained_slope_max_mb_per_min: number | null;
  /** The same growth of plain RSS (what an operator sees), per cent. */
  readonly rss_growth_max_percent: number | null;
  /** The same trend of plain RSS, MB per minute. */
  readonly rss_slope_max_mb_per_min: number | null;
  /** Largest descriptor count after the reference minus the count at it, over all servers. */
  readonly fds_growth_max: number | null;
  readonly requests: number;
  readonly wrong: number;
  readonly failed: Readonly<Record<string, number>>;
  readonly timed_out: number;
  readonly skipped: number;
  /** A few wrong replies, if any. */
  readonly wrong_samples: readonly string[];
}

function sampleOf(window: ChurnWindow, atMs: number, servers: readonly ServerSample[]): SoakSample {
  const latency = summarize(window.latency);
  const failed = Object.values(window.failed).reduce((a, b) => a + b, 0);
  return {
    at_s: Math.round(atMs / 1000),
    requests_per_s: Math.round((window.started / window.ms) * 1000),
    served_per_s: Math.round((window.ok / window.ms) * 1000),
    iamat_share: window.started === 0 ? 0 : Math.round((window.iamat / window.started) * 1000) / 1000,
    ok: window.ok,
    wrong: window.wrong,
    failed,
    timed_out: window.timedOut,
    skipped: window.skipped,
    p50_ms: latency.p50_ms,
    p99_ms: latency.p99_ms,
    servers,
  };
}

const mb = (bytes: number): string => String(Math.round(bytes / 1048576));

/** What {@link memoryFigures} shows, in its order. */
const MEMORY_FIGURES = 'RSS MB/retained MB/live heap MB/fds';

/** One server's memory in a sample, compactly (see {@link MEMORY_FIGURES}). */
function memoryFigures(server: ServerSample): string {
  return `${mb(server.rss_bytes)}/${mb(server.retained_bytes)}/${mb(server.heap_used_bytes)}/${server.fds}`;
}

/** What the verdict reads of a server's sample, bytes: its retained memory, or its plain RSS. */
export type SoakMeasure = (server: ServerSample) => number;
export const RETAINED: SoakMeasure = (server) => server.retained_bytes;
export const RSS: SoakMeasure = (server) => server.rss_bytes;

/** One sample as the line the soak prints: time, load, then `name rss/retained/heap/fds` per server. */
export function formatSoakSample(sample: SoakSample): string {
  const minutes = `${Math.floor(sample.at_s / 60)}:${String(sample.at_s % 60).padStart(2, '0')}`;
  const load =
    `${sample.requests_per_s}/s served ${sample.served_per_s}/s wrong ${sample.wrong} ` +
    `failed ${sample.failed + sample.timed_out} skipped ${sample.skipped} ` +
    `p50 ${sample.p50_ms.toFixed(1)} ms p99 ${sample.p99_ms.toFixed(1)} ms`;
  const servers = sample.servers.map((s) => `${s.name} ${memoryFigures(s)}`);
  return `soak ${minutes.padStart(5)}  ${load}  |  ${servers.join('  ')}  (${MEMORY_FIGURES})`;
}

/**
 * The growth after the reference sample: the largest ratio of `measure` (per cent over its value at
 * the reference) and the largest descriptor increase, over every server and every later sample;
 * nulls when no sample follows the reference.
 */
export function soakGrowth(
  samples: readonly SoakSample[],
  referenceS: number,
  measure: SoakMeasure,
): { percent: number | null; fds: number | null } {
  const reference = samples.find((sample) => sample.at_s >= referenceS);
  const later = samples.filter((sample) => reference !== undefined && sample.at_s > reference.at_s);
  if (reference === undefined || later.length === 0) return { percent: null, fds: null };
  let percent = -Infinity;
  let fds = -Infinity;
  for (const sample of later) {
    for (const server of sample.servers) {
      const base = reference.servers.find((each) => each.name === server.name);
      if (base === undefined) continue;
      percent = Math.max(percent, ((measure(server) - measure(base)) / measure(base)) * 100);
      fds = Math.max(fds, server.fds - base.fds);
    }
  }
  return { percent: Math.round(percent * 10) / 10, fds };
}

/**
 * The growth of each server's level of `measure` over the run after the warm-up: the median of its
 * first `window` samples from `referenceS` on, and the median of the last `window` samples (which do
 * not overlap them); the largest growth of any server, per cent, or null with fewer than two windows
 * of samples. A leak moves the level; the swings of one sample (a backlog of connections, a flap)
 * do not.
 */
export function soakLevelGrowth(
  samples: readonly SoakSample[],
  referenceS: number,
  measure: SoakMeasure,
  window = SOAK_LEVEL_SAMPLES,
): number | null {
  const from = samples.filter((sample) => sample.at_s >= referenceS);
  if (from.length < 2 * window) return null;
  const levelOf = (name: string, part: readonly SoakSample[]): number =>
    median(part.flatMap((sample) => sample.servers.filter((each) => each.name === name).map(measure)));
  let growth = -Infinity;
  for (const { name } of from[0]?.servers ?? []) {
    const before = levelOf(name, from.slice(0, window));
    growth = Math.max(growth, ((levelOf(name, from.slice(-window)) - before) / before) * 100);
  }
  return growth === -Infinity ? null : Math.round(growth * 10) / 10;
}

/** The steepest least-squares slope of any server's `measure` over the samples after `referenceS`, MB/min. */
export function soakSlope(samples: readonly SoakSample[], referenceS: number, measure: SoakMeasure): number | null {
  const later = samples.filter((sample) => sample.at_s > referenceS);
  if (later.length < 2) return null;
  const names = later[0]?.servers.map((server) => server.name) ?? [];
  let steepest = -Infinity;
  for (const name of names) {
    const points = later.flatMap((sample) => {
      const server = sample.servers.find((each) => each.name === name);
      return server === undefined ? [] : [[sample.at_s / 60, measure(server) / 1048576] as const];
    });
    const n = points.length;
    const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
    const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
    const sxy = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
    const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
    if (sxx > 0) steepest = Math.max(steepest, sxy / sxx);
  }
  return steepest === -Infinity ? null : Math.round(steepest * 100) / 100;
}

/** Runs the soak. @throws {ScenarioSkipped} with `--config`. */
export async function runSoak(context: BenchContext): Promise<SoakResult> {
  if (context.target !== undefined)
    throw new ScenarioSkipped('the soak reads the memory of servers the bench starts (not with --config)');
  const sizes = context.sizes;
  const { dir, cleanup } = await benchDir();
  const herd = await startSoakHerd(dir, context.logLevel);
  try {
    await herd.whenLinksUp();
    await whenPlacesReady(herd.servers);
    const idle = await herd.sample();
    const load = new ChurnLoad({
      targets: herd.servers,
      ratePerSecond: SOAK_RATE,
      clients: SOAK_CLIENTS,
      iamatShare: SOAK_IAMAT_SHARE,
      settleMs: SOAK_SETTLE_MS,
      maxOpen: SOAK_MAX_OPEN,
      timeoutMs: SOAK_TIMEOUT_MS,
      seed: 21,
    });
    const samples: SoakSample[] = [];
    const windows: ChurnWindow[] = [];
    let flaps = 0;
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    load.start();
    // Flaps at half a period, then every period, so none falls on the reference sample.
    let nextFlapMs = sizes.soakFlapEveryMs / 2;
    // A sample every soakSampleMs, and one at the end when the length is not a whole number of them.
    const sampleTimes: number[] = [];
    for (let at = sizes.soakSampleMs; at < sizes.soakMs; at += sizes.soakSampleMs) sampleTimes.push(at);
    sampleTimes.push(sizes.soakMs);
    for (const nextSampleMs of sampleTimes) {
      while (nextFlapMs + sizes.soakFlapDownMs < nextSampleMs && nextFlapMs < sizes.soakMs) {
        await sleep(Math.max(0, nextFlapMs - elapsed()));
        herd.cut();
        await sleep(sizes.soakFlapDownMs);
        herd.heal();
        flaps++;
        nextFlapMs += sizes.soakFlapEveryMs;
      }
      await sleep(Math.max(0, nextSampleMs - elapsed()));
      const window = load.take();
      windows.push(window);
      const sample = sampleOf(window, elapsed(), await herd.sample());
      samples.push(sample);
      context.progress.clear();
      process.stderr.write(`${formatSoakSample(sample)}\n`);
    }
    await load.stop();
    const failed: Record<string, number> = {};
    for (const window of windows)
      for (const [code, n] of Object.entries(window.failed)) failed[code] = (failed[code] ?? 0) + n;
    const referenceS = sizes.soakReferenceMs / 1000;
    const retained = soakGrowth(samples, referenceS, RETAINED);
    const level = soakLevelGrowth(samples, referenceS, RETAINED);
    return {
      duration_s: Math.round(sizes.soakMs / 1000),
      sample_every_s: Math.round(sizes.soakSampleMs / 1000),
      rate_per_s: SOAK_RATE,
      clients: SOAK_CLIENTS,
      flap_link: herd.flapLink,
      flaps,
      flap_every_s: sizes.soakFlapEveryMs / 1000,
      flap_down_s: sizes.soakFlapDownMs / 1000,
      idle,
      samples,
      reference_s: Math.round(sizes.soakReferenceMs / 1000),
      retained_level_growth_percent: level,
      retained_growth_max_percent: retained.percent,
      retained_slope_max_mb_per_min: soakSlope(samples, referenceS, RETAINED),
      rss_growth_max_percent: soakGrowth(samples, referenceS, RSS).percent,
      rss_slope_max_mb_per_min: soakSlope(samples, referenceS, RSS),
      fds_growth_max: retained.fds,
      requests: windows.reduce((sum, window) => sum + window.started, 0),
      wrong: windows.reduce((sum, window) => sum + window.wrong, 0),
      failed,
      timed_out: windows.reduce((sum, window) => sum + window.timedOut, 0),
      skipped: windows.reduce((sum, window) => sum + window.skipped, 0),
      wrong_samples: windows.flatMap((window) => window.wrongSamples).slice(0, 5),
    };
  } finally {
    await herd.stop();
    await cleanup();
  }
}

type Row = readonly [string, string, string, string, string, string];

/** The soak's rows of the bench table: the verdict, the load's totals, and one row per sample. */
export function soakRows(soak: SoakResult, verdict: string): Row[] {
  const failed = Object.entries(soak.failed)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  const percent = (value: number | null): string => (value === null ? '-' : `${value.toFixed(1)}%`);
  const trend = (value: number | null): string => (value === null ? '' : `trend ${value} MB/min`);
  const rows: Row[] = [
    [
      'soak',
      `retained memory: median of the last ${SOAK_LEVEL_SAMPLES} samples over the first ${SOAK_LEVEL_SAMPLES} from ${soak.reference_s} s, % (${soak.duration_s} s, ${soak.rate_per_s}/s, new connection each)`,
      percent(soak.retained_level_growth_percent),
      [
        soak.retained_growth_max_percent === null ? '' : `one sample: max ${percent(soak.retained_growth_max_percent)}`,
        trend(soak.retained_slope_max_mb_per_min),
        soak.fds_growth_max === null ? '' : `fds ${soak.fds_growth_max >= 0 ? '+' : ''}${soak.fds_growth_max}`,
      ]
        .filter(Boolean)
        .join(', '),
      '',
      verdict,
    ],
    [
      'soak',
      `RSS after ${soak.reference_s} s, max % over it (with the heap V8 keeps for garbage)`,
      percent(soak.rss_growth_max_percent),
      trend(soak.rss_slope_max_mb_per_min),
      '',
      '',
    ],
    [
      'soak',
      `requests, wrong replies, timed out (${soak.flaps} flaps of ${soak.flap_link})`,
      soak.requests.toLocaleString('en-US'),
      `wrong ${soak.wrong}, timed out ${soak.timed_out}${failed === '' ? '' : `, failed: ${failed}`}`,
      '',
      '',
    ],
  ];
  for (const sample of soak.samples) {
    const servers = sample.servers.map(memoryFigures).join(' ');
    rows.push([
      'soak',
      `at ${sample.at_s} s: served/s; ${MEMORY_FIGURES} of each server`,
      `${sample.served_per_s}/s`,
      `p99 ${sample.p99_ms.toFixed(1)} ms  ${servers}`,
      '',
      '',
    ]);
  }
  return rows;
}
