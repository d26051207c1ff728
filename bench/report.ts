/**
 * The bench report: one JSON object for machines (`--json`; keys listed in issue 5) and one table for
 * people, with every speed figure also as a ratio to the floor of the same run and each target of
 * issue 5 marked met or missed.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { CatchUpResult } from './scenarios/catch-up.js';
import type { DashboardResult } from './scenarios/dashboard.js';
import type { FloorResult } from './scenarios/floor.js';
import type { HeartbeatResult } from './scenarios/heartbeat.js';
import { scaleRows, type ScaleResult } from './scenarios/scale.js';
import type { HerdIngestResult } from './scenarios/herd-ingest.js';
import type { IamatResult } from './scenarios/iamat.js';
import type { MemoryResult } from './scenarios/memory.js';
import { costRows, type CostResult } from './scenarios/cost.js';
import { redisRows, type RedisResult } from './scenarios/redis.js';
import { placesRows, placesTargets, type PlacesResult } from './scenarios/places.js';
import { startupRows, startupTargets, type StartupResult } from './scenarios/startup-report.js';
import type { ThroughputFigure } from './scenarios/throughput.js';
import type { WhatsatResult } from './scenarios/whatsat.js';
import { SOAK_RSS_TOLERANCE, soakRows, type SoakResult } from './scenarios/soak.js';

/** The machine a run was on. */
export interface MachineInfo {
  /** Logical CPUs available to the process (`nproc`). */
  readonly nproc: number;
  /** `model name` from /proc/cpuinfo. */
  readonly cpu_model: string;
  readonly node: string;
  readonly os: string;
  readonly memory_bytes: number;
}

/** The machine this process runs on. */
export function machineInfo(): MachineInfo {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match !== null) model = (match[1] as string).trim();
  } catch {
    // Not Linux: os.cpus() it is.
  }
  return {
    nproc: os.availableParallelism(),
    cpu_model: model,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memory_bytes: os.totalmem(),
  };
}

/** A throughput figure with its ratio to the floor. */
export type RatedFigure = ThroughputFigure & { readonly ratio_to_floor: number | null };

/** One target of issue 5 and whether this run met it. */
export interface TargetCheck {
  readonly name: string;
  readonly target: string;
  readonly value: number | null;
  /** null when the figure was not measured. */
  readonly met: boolean | null;
}

/** The `--json` document. Scenarios not run (or failed) are null; see `errors`. */
export interface BenchReport {
  readonly started_at: string;
  readonly duration_s: number;
  /** Wall time of each scenario run, s (process starts and clean-up included). */
  readonly scenario_s: Readonly<Record<string, number>>;
  readonly quick: boolean;
  /** Log level of the servers the bench started (a `--config` herd keeps its own). */
  readonly log_level: string;
  /** `local` (herds the bench started) or the `--config` file. */
  readonly target: string;
  readonly machine: MachineInfo;
  /**
   * Lines/s of the echo server, the mean of the runs (before and after the other speed scenarios);
   * `runs` has each, `latency` the first run's figures.
   */
  readonly floor: {
    readonly w1: number;
    readonly w16: number;
    readonly runs: { readonly w1: readonly number[]; readonly w16: readonly number[] };
    readonly latency: { readonly w1: ThroughputFigure; readonly w16: ThroughputFigure };
  } | null;
  readonly iamat: { readonly w1: RatedFigure; readonly w16: RatedFigure; readonly neighbours: number } | null;
  readonly iamat_sync: { readonly w1: RatedFigure; readonly w16: RatedFigure } | null;
  readonly herd: (HerdIngestResult & { readonly ratio_to_floor: number | null }) | null;
  readonly whatsat: (WhatsatResult & { readonly ratio_to_floor: number | null }) | null;
  readonly memory: MemoryResult | null;
  readonly startup: StartupResult | null;
  readonly catch_up: CatchUpResult | null;
  /** Server CPU microseconds per IAMAT, stored flood, stale flood and WHATSAT. */
  readonly cost_us: CostResult | null;
  /** Redis GEOADD beside herd's IAMAT in memory, when Redis is installed. */
  readonly redis: RedisResult | null;
  readonly places: PlacesResult | null;
  readonly heartbeat: HeartbeatResult | null;
  readonly dashboard: DashboardResult | null;
  /** The soak (only when `--only` names it). */
  readonly soak: SoakResult | null;
  /** Herd sizes and shapes, both dissemination modes, beside their floor. */
  readonly scale: ScaleResult | null;
  readonly targets: readonly TargetCheck[];
  /** Scenario -> why it failed. */
  readonly errors: Readonly<Record<string, string>>;
  /** Scenario -> why it could not run here (e.g. restarts a server, with `--config`). */
  readonly skipped: Readonly<Record<string, string>>;
}

/** What the scenarios produced, before ratios and targets. */
export interface ScenarioResults {
  floor?: FloorResult;
  /** The floor measured again after the other speed scenarios. */
  floorAgain?: FloorResult;
  iamat?: IamatResult;
  iamatSync?: IamatResult;
  herd?: HerdIngestResult;
  whatsat?: WhatsatResult;
  memory?: MemoryResult;
  startup?: StartupResult;
  catchUp?: CatchUpResult;
  cost?: CostResult;
  redis?: RedisResult;
  places?: PlacesResult;
  heartbeat?: HeartbeatResult;
  dashboard?: DashboardResult;
  soak?: SoakResult;
  scale?: ScaleResult;
}

function ratio(value: number, floor: number | undefined): number | null {
  return floor === undefined || floor === 0 ? null : Math.round((value / floor) * 1000) / 1000;
}

function rated(figure: ThroughputFigure, floor: number | undefined): RatedFigure {
  return { ...figure, ratio_to_floor: ratio(figure.rate, floor) };
}

function check(
  name: string,
  target: string,
  value: number | null | undefined,
  met: (value: number) => boolean,
): TargetCheck {
  return value === null || value === undefined
    ? { name, target, value: null, met: null }
    : { name, target, value, met: met(value) };
}

/** Assembles the report: ratios to the floor and the targets of issue 5. */
export function buildReport(
  results: ScenarioResults,
  meta: {
    startedAt: Date;
    durationMs: number;
    quick: boolean;
    logLevel: string;
    target: string;
    errors: Record<string, string>;
    skipped: Record<string, string>;
    seconds: Record<string, number>;
  },
): BenchReport {
  const floorRuns = [results.floor, results.floorAgain].filter((run): run is FloorResult => run !== undefined);
  const mean = (values: number[]): number | undefined =>
    values.length === 0 ? undefined : Math.round(values.reduce((a, b) => a + b, 0) / values.length);
  const floorW1 = mean(floorRuns.map((run) => run.w1.rate));
  const floorW16 = mean(floorRuns.map((run) => run.w16.rate));
  const iamat =
    results.iamat === undefined
      ? null
      : {
          w1: rated(results.iamat.w1, floorW1),
          w16: rated(results.iamat.w16, floorW16),
          neighbours: results.iamat.neighbours,
        };
  const herd =
    results.herd === undefined ? null : { ...results.herd, ratio_to_floor: ratio(results.herd.rate, floorW16) };
  const whatsat =
    results.whatsat === undefined
      ? null
      : { ...results.whatsat, ratio_to_floor: ratio(results.whatsat.rate, floorW16) };
  const targets: TargetCheck[] = [
    check('iamat W=1 / floor W=1', '>= 0.9x', iamat?.w1.ratio_to_floor, (v) => v >= 0.9),
    check('iamat W=16 / floor W=16', '>= 0.7x', iamat?.w16.ratio_to_floor, (v) => v >= 0.7),
    check('herd ingest / floor W=16', '>= 0.1x', herd?.ratio_to_floor, (v) => v >= 0.1),
    check('propagation p99 at 1k/s, ms', 'p99 <= 5 ms', herd?.propagation_p99_ms_at_1k, (v) => v <= 5),
    check('WHATSAT/s', '>= 20k/s', whatsat?.rate, (v) => v >= 20_000),
    check('bytes per client (RSS)', '<= 300 B', results.memory?.bytes_per_client, (v) => v <= 300),
    check(
      'iamat sync W=1 / floor W=1',
      '>= 0.3x',
      results.iamatSync === undefined ? undefined : ratio(results.iamatSync.w1.rate, floorW1),
      (v) => v >= 0.3,
    ),
    check('iamat sync W=1 p50, ms', 'p50 <= 2 ms', results.iamatSync?.w1.p50_ms, (v) => v <= 2),
    ...startupTargets(results.startup),
    ...placesTargets(results.places),
    check('ingest cost of 3 dashboard pages, %', '<= 5%', results.dashboard?.ingest_cost_percent, (v) => v <= 5),
    check(
      'soak RSS growth after the warm-up, %',
      `<= ${SOAK_RSS_TOLERANCE * 100}%`,
      results.soak?.rss_growth_max_percent,
      (v) => v <= SOAK_RSS_TOLERANCE * 100,
    ),
  ];
  return {
    started_at: meta.startedAt.toISOString(),
    duration_s: Math.round(meta.durationMs / 100) / 10,
    scenario_s: meta.seconds,
    quick: meta.quick,
    log_level: meta.logLevel,
    target: meta.target,
    machine: machineInfo(),
    floor:
      results.floor === undefined || floorW1 === undefined || floorW16 === undefined
        ? null
        : {
            w1: floorW1,
            w16: floorW16,
            runs: { w1: floorRuns.map((run) => run.w1.rate), w16: floorRuns.map((run) => run.w16.rate) },
            latency: { w1: results.floor.w1, w16: results.floor.w16 },
          },
    iamat,
    iamat_sync:
      results.iamatSync === undefined
        ? null
        : { w1: rated(results.iamatSync.w1, floorW1), w16: rated(results.iamatSync.w16, floorW16) },
    herd,
    whatsat,
    memory: results.memory ?? null,
    startup: results.startup ?? null,
    catch_up: results.catchUp ?? null,
    cost_us: results.cost ?? null,
    redis: results.redis ?? null,
    places: results.places ?? null,
    heartbeat: results.heartbeat ?? null,
    dashboard: results.dashboard ?? null,
    soak: results.soak ?? null,
    scale: results.scale ?? null,
    targets,
    errors: meta.errors,
    skipped: meta.skipped,
  };
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (n >= 100 ? String(Math.round(n)) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const mb = (bytes: number): string => `${Math.round(bytes / 1048576)}`;
const times = (r: number | null): string => (r === null ? '' : `${r.toFixed(r < 0.1 ? 3 : 2)}x`);
const latency = (f: { p50_ms: number; p99_ms: number; p999_ms: number }): string =>
  `${ms(f.p50_ms)} / ${ms(f.p99_ms)} / ${ms(f.p999_ms)}`;

type Row = readonly [scenario: string, figure: string, value: string, latency: string, ratio: string, target: string];

function verdict(report: BenchReport, name: string): string {
  const target = report.targets.find((t) => t.name === name);
  if (target === undefined || target.met === null) return '';
  return `${target.target} ${target.met ? 'met' : 'MISSED'}`;
}

/** The report as one plain-text table, with the machine and run in a header line. */
export function formatTable(report: BenchReport): string {
  const m = report.machine;
  const rows: Row[] = [];
  const c = report.floor?.latency.w1.connections ?? report.iamat?.w1.connections ?? 50;
  if (report.floor !== null) {
    const runs = (values: readonly number[]): string =>
      values.length < 2 ? '' : ` (mean of ${values.map(count).join(' and ')})`;
    rows.push([
      'floor',
      `echo lines/s, C=${c} W=1${runs(report.floor.runs.w1)}`,
      count(report.floor.w1),
      latency(report.floor.latency.w1),
      '1.00x',
      '',
    ]);
    rows.push([
      'floor',
      `echo lines/s, C=${c} W=16${runs(report.floor.runs.w16)}`,
      count(report.floor.w16),
      latency(report.floor.latency.w16),
      '1.00x',
      '',
    ]);
  }
  if (report.iamat !== null) {
    const who = report.iamat.neighbours === 0 ? '1 server, no peers' : `server with ${report.iamat.neighbours} peers`;
    rows.push([
      'iamat',
      `IAMAT/s, ${who}, W=1`,
      count(report.iamat.w1.rate),
      latency(report.iamat.w1),
      times(report.iamat.w1.ratio_to_floor),
      verdict(report, 'iamat W=1 / floor W=1'),
    ]);
    rows.push([
      'iamat',
      `IAMAT/s, ${who}, W=16`,
      count(report.iamat.w16.rate),
      latency(report.iamat.w16),
      times(report.iamat.w16.ratio_to_floor),
      verdict(report, 'iamat W=16 / floor W=16'),
    ]);
  }
  if (report.iamat_sync !== null) {
    rows.push([
      'iamat sync',
      'IAMAT/s, store.sync: true, W=1',
      count(report.iamat_sync.w1.rate),
      latency(report.iamat_sync.w1),
      times(report.iamat_sync.w1.ratio_to_floor),
      [verdict(report, 'iamat sync W=1 / floor W=1'), verdict(report, 'iamat sync W=1 p50, ms')].join(', '),
    ]);
    rows.push([
      'iamat sync',
      'IAMAT/s, store.sync: true, W=16',
      count(report.iamat_sync.w16.rate),
      latency(report.iamat_sync.w16),
      times(report.iamat_sync.w16.ratio_to_floor),
      '',
    ]);
  }
  if (report.herd !== null) {
    const h = report.herd;
    rows.push([
      'herd ingest',
      `updates/s on all ${h.servers} (max; acks ${count(h.ack_rate)}/s)`,
      count(h.rate),
      `prop. ${ms(h.propagation_p50_ms)} / ${ms(h.propagation_p99_ms)}`,
      times(h.ratio_to_floor),
      verdict(report, 'herd ingest / floor W=16'),
    ]);
    rows.push([
      'herd ingest',
      'propagation at 1k/s, ms',
      '',
      `${ms(h.propagation_p50_ms_at_1k)} / ${ms(h.propagation_p99_ms_at_1k)} / ${ms(h.propagation_p999_ms_at_1k)}`,
      '',
      verdict(report, 'propagation p99 at 1k/s, ms'),
    ]);
  }
  if (report.whatsat !== null) {
    const w = report.whatsat;
    rows.push([
      'whatsat',
      `WHATSAT/s, 10 km, bound 20, W=${w.window} (${count(w.reply_bytes)} B)`,
      count(w.rate),
      latency(w),
      times(w.ratio_to_floor),
      verdict(report, 'WHATSAT/s'),
    ]);
  }
  if (report.memory !== null) {
    const mem = report.memory;
    const level = mem.log_level === null ? '' : `, servers at ${mem.log_level}`;
    rows.push([
      'memory',
      `bytes/client, RSS (${count(mem.clients)} clients${level})`,
      count(mem.bytes_per_client),
      '',
      '',
      verdict(report, 'bytes per client (RSS)'),
    ]);
    if (mem.heap_bytes_per_client !== null)
      rows.push(['memory', 'bytes/client, heap after GC', count(mem.heap_bytes_per_client), '', '', '']);
    for (const server of mem.servers) {
      const heap = server.heap_used_bytes === null ? '?' : mb(server.heap_used_bytes);
      const heapBefore = server.heap_used_bytes_before === null ? '?' : mb(server.heap_used_bytes_before);
      rows.push([
        'memory',
        `${server.name}: RSS / heap MB (before: ${mb(server.rss_bytes_before)} / ${heapBefore})`,
        `${mb(server.rss_bytes)} / ${heap}`,
        '',
        '',
        '',
      ]);
    }
  }
  if (report.startup !== null) rows.push(...startupRows(report.startup));
  if (report.catch_up !== null) {
    const a = report.catch_up;
    rows.push([
      'catch-up',
      `${a.server} empty -> ${count(a.clients)} clients, ms`,
      count(a.catch_up_ms),
      `from kill ${count(a.from_kill_ms)}`,
      '',
      '',
    ]);
    const records =
      a.records_received === null
        ? ''
        : `${count(a.records_received)} records in, ${count(a.records_stored ?? 0)} stored`;
    rows.push([
      'catch-up',
      `bytes on its links (${count(a.bytes_per_client)}/client)`,
      count(a.bytes_exchanged),
      records,
      '',
      '',
    ]);
  }
  if (report.dashboard !== null) {
    const d = report.dashboard;
    rows.push([
      'dashboard',
      `herd ingest updates/s, ${d.pages} pages open (without: ${count(d.rate_without)})`,
      count(d.rate_with),
      `cost ${d.ingest_cost_percent.toFixed(1)}% (median of ${d.runs_with.length} rounds)`,
      '',
      verdict(report, 'ingest cost of 3 dashboard pages, %'),
    ]);
    rows.push([
      'dashboard',
      `server CPU per update, us, ${d.pages} pages open (without: ${d.cpu_us_per_update_without})`,
      String(d.cpu_us_per_update_with),
      `cost ${d.cpu_cost_percent.toFixed(1)}% (median of rounds)`,
      '',
      '',
    ]);
    rows.push([
      'dashboard',
      `one page: events/s, bytes/s (bound ${count(d.stream_unwritten_bound_bytes)} B unwritten)`,
      `${d.events_per_second_per_page.toFixed(1)}`,
      `${count(d.bytes_per_second_per_page)} B/s`,
      '',
      '',
    ]);
    rows.push([
      'dashboard',
      `first paint, ms, ${count(d.first_paint_clients)} clients (${d.first_paint_mode ?? 'no browser'})`,
      d.first_paint_ms === null ? '-' : count(d.first_paint_ms),
      d.page_longest_task_ms === null ? (d.browser ?? '') : `longest task ${count(d.page_longest_task_ms)} ms`,
      '',
      '',
    ]);
    rows.push([
      'dashboard',
      `snapshot scan of ${count(d.first_paint_clients)} clients, ms (${d.snapshot_slices} slices)`,
      ms(d.snapshot_scan_ms),
      `longest slice ${ms(d.snapshot_longest_slice_ms)} ms`,
      '',
      '',
    ]);
  }

  if (report.soak !== null)
    rows.push(...soakRows(report.soak, verdict(report, 'soak RSS growth after the warm-up, %')));
  if (report.cost_us !== null) rows.push(...costRows(report.cost_us));
  if (report.redis !== null) rows.push(...redisRows(report.redis));
  if (report.places !== null) rows.push(...placesRows(report.places));
  if (report.heartbeat !== null) {
    const h = report.heartbeat;
    rows.push([
      'heartbeat',
      `idle link, payload B/s (every ${h.heartbeat_interval_ms} ms, both ways, ${h.window_s} s)`,
      String(h.payload_bytes_per_s_per_link),
      `${h.segments_per_s_per_link} segments/s, ~${Math.round(h.wire_bytes_per_s_per_link)} B/s on a wire`,
      '',
      '',
    ]);
  }

  if (report.scale !== null) rows.push(...scaleRows(report.scale));

  const header: Row = ['Scenario', 'Figure', 'Value', 'p50 / p99 / p99.9 ms', 'x floor', 'Target'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]?.length ?? 0)));
  const line = (row: Row): string =>
    row
      .map((cell, i) => (i === 2 || i === 4 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const title =
    `herd bench${report.quick ? ' --quick' : ''} · ${report.started_at.slice(0, 19).replace('T', ' ')} UTC · ${report.duration_s} s · ` +
    `${m.nproc} x ${m.cpu_model} · node ${m.node} · servers logLevel ${report.log_level}` +
    (report.target === 'local' ? '' : ` · target ${report.target}`);
  const notes = [
    ...Object.entries(report.errors).map(([scenario, error]) => `FAILED ${scenario}: ${error}`),
    ...Object.entries(report.skipped).map(([scenario, why]) => `skipped ${scenario}: ${why}`),
  ];
  return [title, '', line(header), rule, ...rows.map(line), ...(notes.length === 0 ? [] : ['', ...notes]), ''].join(
    '\n',
  );
}
