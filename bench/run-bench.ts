/**
 * `npm run bench`: runs the scenarios in order, each on fresh processes,
 * and prints one table (or, with `--json`, one JSON object). A scenario that fails is reported and
 * the others still run; the exit code is then 1. See docs/benchmarks.md.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadHerdConfig, type HerdConfig } from '../src/config/herd-config.js';
import { loadHerdSecret } from '../src/peers/herd-secret.js';
import { UsageError } from '../src/errors.js';
import { ScenarioSkipped } from './bench-error.js';
import { FULL_SIZES, QUICK_SIZES, type BenchContext, type TargetHerd } from './bench-context.js';
import { Progress } from './progress.js';
import { buildReport, formatTable, type BenchReport, type ScenarioResults } from './report.js';
import { runCatchUp } from './scenarios/catch-up.js';
import { runCost } from './scenarios/cost.js';
import { runDashboard } from './scenarios/dashboard.js';
import { runFloor } from './scenarios/floor.js';
import { runHeartbeat } from './scenarios/heartbeat.js';
import { runHerdIngest } from './scenarios/herd-ingest.js';
import { runIamat } from './scenarios/iamat.js';
import { runMemory } from './scenarios/memory.js';
import { runPlaces } from './scenarios/places.js';
import { runRedis } from './scenarios/redis.js';
import { runScale } from './scenarios/scale.js';
import { runStartup } from './scenarios/startup.js';
import { runWhatsat } from './scenarios/whatsat.js';
import { runSoak } from './scenarios/soak.js';

/** Client connections of the throughput scenarios, C. */
export const BENCH_CONNECTIONS = 50;

export { SCENARIOS, type ScenarioName } from './scenario-names.js';
import { ON_REQUEST_ONLY, type ScenarioName } from './scenario-names.js';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Brief sizes (well under a minute). @default false */
  readonly quick?: boolean;
  /** Target a running herd instead of starting one. */
  readonly configFile?: string;
  /** Log level of the servers the bench starts. @default 'info' (the product's default) */
  readonly logLevel?: HerdConfig['logLevel'];
  /** Run only these scenarios. @default all */
  readonly only?: readonly ScenarioName[];
  /**
   * Write a CPU profile of every server process the speed scenarios start into this folder
   * (`node --cpu-prof`); summarize them with `node --import tsx bench/profile-summary.ts <dir>/*.cpuprofile`.
   */
  readonly cpuProfileDir?: string;
  /** Where progress goes. @default a {@link Progress} on stderr (silent unless a terminal) */
  readonly progress?: Progress;
  /** Length of the soak, minutes. @default 30 (20 s with `quick`) */
  readonly soakMinutes?: number;
  /** The scale scenario's shapes to measure, by id (`mesh-10`). @default all of ./scale-shapes.ts `fullShapes` */
  readonly scaleShapes?: readonly string[];
  /** Run the scale scenario's herds with `store.durable: false`. @default false */
  readonly scaleMemoryStore?: boolean;
}

/**
 * Reads a `--config` herd: its servers (which must have real ports) and the external server linked
 * to every one of them, if any, for the observer.
 *
 * @throws {ConfigError} for a bad config or secret; {@link UsageError} for a server with port 0.
 */
export function readTargetHerd(configFile: string): TargetHerd {
  const config = loadHerdConfig(configFile);
  const members = config.servers.filter((server) => !server.external);
  for (const server of members) {
    if (server.port === 0)
      throw new UsageError(
        `${configFile}: server ${server.name} has port 0; --config needs the real ports of a running herd`,
      );
  }
  const linked = (a: string, b: string): boolean =>
    config.links.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
  const observer = config.servers.find(
    (server) => server.external && members.every((member) => linked(member.name, server.name)),
  );
  return {
    configFile: path.resolve(configFile),
    config,
    servers: members.map((server) => ({ name: server.name, host: server.host, port: server.port })),
    // The observer stands in for that member's peer port, which every server dials.
    observer:
      observer === undefined ? undefined : { name: observer.name, host: observer.peerHost, port: observer.peerPort },
    secret: loadHerdSecret(config.secretFile),
  };
}

/** Runs the selected scenarios and returns the report. Never throws for a failing scenario. */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const startedAt = new Date();
  const started = performance.now();
  const quick = options.quick ?? false;
  const progress = options.progress ?? new Progress();
  const target = options.configFile === undefined ? undefined : readTargetHerd(options.configFile);
  const sizes = quick ? QUICK_SIZES : FULL_SIZES;
  const context: BenchContext = {
    sizes: options.soakMinutes === undefined ? sizes : { ...sizes, soakMs: Math.round(options.soakMinutes * 60_000) },
    quick,
    logLevel: options.logLevel ?? 'info',
    progress,
    target,
    connections: BENCH_CONNECTIONS,
    scaleShapes: options.scaleShapes,
    scaleMemoryStore: options.scaleMemoryStore ?? false,
    serverNodeArgs:
      options.cpuProfileDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.cpuProfileDir)}`],
  };
  const selected = (name: ScenarioName): boolean =>
    options.only === undefined ? !ON_REQUEST_ONLY.includes(name) : options.only.includes(name);
  const results: ScenarioResults = {};
  const errors: Record<string, string> = {};
  const skipped: Record<string, string> = {};
  const seconds: Record<string, number> = {};
  const run = async <T>(name: ScenarioName, scenario: () => Promise<T>, keep: (result: T) => void): Promise<void> => {
    if (!selected(name)) return;
    progress.update(`${name}: starting`, true);
    const scenarioStarted = performance.now();
    try {
      keep(await scenario());
    } catch (error) {
      if (error instanceof ScenarioSkipped) skipped[name] = error.message;
      else errors[name] = error instanceof Error ? error.message : String(error);
    }
    seconds[name] = Math.round(((seconds[name] ?? 0) * 1000 + performance.now() - scenarioStarted) / 100) / 10;
  };
  await run(
    'floor',
    () => runFloor(context),
    (r) => (results.floor = r),
  );
  await run(
    'iamat',
    () => runIamat(context),
    (r) => (results.iamat = r),
  );
  await run(
    'iamat-sync',
    () => runIamat(context, true),
    (r) => (results.iamatSync = r),
  );
  await run(
    'herd',
    () => runHerdIngest(context),
    (r) => (results.herd = r),
  );
  await run(
    'whatsat',
    () => runWhatsat(context),
    (r) => (results.whatsat = r),
  );
  await run(
    'cost',
    () => runCost(context),
    (r) => (results.cost = r),
  );
  await run(
    'redis',
    () => runRedis(context),
    (r) => (results.redis = r),
  );
  // The floor again after the speed scenarios: on a shared box it drifts; the ratios use the mean.
  if (results.floor !== undefined)
    await run(
      'floor',
      () => runFloor(context),
      (r) => (results.floorAgain = r),
    );
  await run(
    'memory',
    () => runMemory(context),
    (r) => (results.memory = r),
  );
  await run(
    'startup',
    () => runStartup(context),
    (r) => (results.startup = r),
  );
  await run(
    'catch-up',
    () => runCatchUp(context),
    (r) => (results.catchUp = r),
  );
  await run(
    'places',
    () => runPlaces(context),
    (r) => (results.places = r),
  );
  await run(
    'heartbeat',
    () => runHeartbeat(context),
    (r) => (results.heartbeat = r),
  );
  await run(
    'dashboard',
    () => runDashboard(context),
    (r) => (results.dashboard = r),
  );
  await run(
    'scale',
    () => runScale(context),
    (r) => (results.scale = r),
  );
  await run(
    'soak',
    () => runSoak(context),
    (r) => (results.soak = r),
  );
  progress.clear();
  return buildReport(results, {
    startedAt,
    durationMs: performance.now() - started,
    quick,
    logLevel: target === undefined ? context.logLevel : target.config.logLevel,
    target: target === undefined ? 'local' : target.configFile,
    errors,
    skipped,
    seconds,
  });
}

/** Options of the `npm run bench` command line. */
export interface BenchCommandOptions {
  readonly json?: boolean;
  /** Also write the report as JSON (as `--json` prints it) to this file, whatever stdout prints. */
  readonly jsonFile?: string;
  readonly quick?: boolean;
  readonly config?: string;
  readonly logLevel?: HerdConfig['logLevel'];
  readonly only?: ScenarioName[];
  readonly cpuProf?: string;
  readonly soakMinutes?: number;
  readonly scaleShapes?: readonly string[];
  readonly scaleMemoryStore?: boolean;
  /** Where to write the scale scenario's plot (SVG). */
  readonly plot?: string;
}

/**
 * Runs the bench for the command line and prints the table (or JSON) on stdout, and writes the JSON
 * to `jsonFile` when given.
 *
 * @returns the exit code: 0, or 1 when a scenario failed.
 */
export async function runBenchCommand(options: BenchCommandOptions): Promise<number> {
  const report = await runBench({
    quick: options.quick,
    configFile: options.config,
    logLevel: options.logLevel,
    only: options.only,
    cpuProfileDir: options.cpuProf,
    soakMinutes: options.soakMinutes,
    scaleShapes: options.scaleShapes,
    scaleMemoryStore: options.scaleMemoryStore,
  });
  if (options.plot !== undefined && report.scale !== null) {
    const title = `herd sizes: ${report.started_at.slice(0, 10)}, ${report.machine.nproc} x ${report.machine.cpu_model}${report.quick ? ', --quick' : ''}`;
    // Loaded only for a plot: the chart library takes seconds to load, a --quick run's whole scenario.
    const { scalePlotSvg } = await import('./scale-plot.js');
    await writeFile(options.plot, scalePlotSvg(report.scale, title));
  }
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (options.jsonFile !== undefined) await writeFile(options.jsonFile, json);
  process.stdout.write(options.json === true ? json : formatTable(report));
  return Object.keys(report.errors).length === 0 ? 0 : 1;
}
