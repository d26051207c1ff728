/**
 * The bench report: one JSON object for machines (`--json`; keys in docs/benchmarks.md "JSON report")
 * and one table for people (./report-table.ts), with every speed figure also as a ratio to the floor
 * of the same run and each target marked met or missed.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { CatchUpResult } from './scenarios/catch-up.js';
import type { DashboardResult } from './scenarios/dashboard.js';
import type { FloorResult } from './scenarios/floor.js';
import type { HeartbeatResult } from './scenarios/heartbeat.js';
import type { ScaleResult } from './scenarios/scale.js';
import type { HerdIngestResult } from './scenarios/herd-ingest.js';
import type { IamatResult } from './scenarios/iamat.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { CostResult } from './scenarios/cost.js';
import type { RedisResult } from './scenarios/redis.js';
import { placesTargets, type PlacesResult } from './scenarios/places.js';
import { startupTargets, type StartupResult } from './scenarios/startup-report.js';
import type { ThroughputFigure } from './scenarios/throughput.js';
import type { WhatsatResult } from './scenarios/whatsat.js';
import { SOAK_RETAINED_TOLERANCE, type SoakResult } from './scenarios/soak.js';

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

/** One target of the bench and whether this run met it. */
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
  readonly herd:
    | (HerdIngestResult & {
        readonly ratio_to_floor: number | null;
        /** Propagation p99 at 1k/s in the fresh herd over its floor's p99 (null without the floor). */
        readonly propagation_p99_ratio_to_floor_at_1k: number | null;
        /** The same in the warm herd. */
        readonly warm_p99_ratio_to_floor_at_1k: number | null;
      })
    | null;
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

/** Assembles the report: ratios to the floor and the targets. */
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
    results.herd === undefined
      ? null
      : {
          ...results.herd,
          ratio_to_floor: ratio(results.herd.rate, floorW16),
          propagation_p99_ratio_to_floor_at_1k: ratio(
            results.herd.propagation_p99_ms_at_1k,
            results.herd.floor_at_1k?.p99_ms,
          ),
          warm_p99_ratio_to_floor_at_1k: ratio(results.herd.warm_at_1k.p99_ms, results.herd.floor_at_1k?.p99_ms),
        };
  const whatsat =
    results.whatsat === undefined
      ? null
      : { ...results.whatsat, ratio_to_floor: ratio(results.whatsat.rate, floorW16) };
  const targets: TargetCheck[] = [
    check('iamat W=1 / floor W=1', '>= 0.9x', iamat?.w1.ratio_to_floor, (v) => v >= 0.9),
    check('iamat W=16 / floor W=16', '>= 0.35x', iamat?.w16.ratio_to_floor, (v) => v >= 0.35),
    check('herd ingest / floor W=16', '>= 0.1x', herd?.ratio_to_floor, (v) => v >= 0.1),
    check('propagation p99 at 1k/s, warm herd, ms', 'p99 <= 3 ms', herd?.warm_at_1k.p99_ms, (v) => v <= 3),
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
      'soak retained memory growth after the warm-up, %',
      `<= ${SOAK_RETAINED_TOLERANCE * 100}%`,
      results.soak?.retained_level_growth_percent,
      (v) => v <= SOAK_RETAINED_TOLERANCE * 100,
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

export { formatTable } from './report-table.js';
