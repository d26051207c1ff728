/**
 * The part of the `cost` scenario where the load is light: what a server costs when it is mostly
 * waiting, which is where wake-ups and system calls, not parsing, set the price.
 *
 * - `light`: one connection, one IAMAT at a time, at {@link LIGHT_RATE_PER_SECOND}, to a server as
 *   shipped (durable store, info logs, an admin port with its metrics), beside the echo server
 *   driven the same way: server CPU per IAMAT and per echoed line, measured in the same run, each
 *   after a warm-up ({@link LIGHT_WARMUP_REQUESTS}). Both run side by side, read in turn for
 *   {@link COST_ROUNDS} rounds (echo, then server); each figure is the median of its rounds, and the
 *   ratio the median of the rounds' own ratios.
 * - `idle`: the shipped five-server herd with nothing to do for {@link IDLE_WINDOW_MS}: the CPU of
 *   each server as a percentage of one core (heartbeats, timers, metrics), beside its floor read in
 *   the same window: two bare `node` processes that do only the heartbeat I/O of the busiest member
 *   (../heartbeat-floor.ts).
 */
import type { BenchContext } from '../bench-context.js';
import {
  PROBE_DIR_ENV,
  benchDir,
  benchEnv,
  memoryProbeNodeArgs,
  probeMemory,
  threadsCpuNs,
  sleep,
  startEchoProcess,
  startHerdProcess,
  startServe,
  whenPlacesReady,
  writeBenchConfig,
} from '../bench-processes.js';
import { runLoad, type LoadTarget } from '../load-client.js';
import { iamatWriter } from '../request-writers.js';
import { startHeartbeatFloor } from '../heartbeat-floor.js';
import { COST_ROUNDS, roundsLabel, roundsMedian, roundsRatio, roundsSpread } from './cost-rounds.js';

/** Requests per second of the light load: about what one mobile client's burst looks like to a server. */
export const LIGHT_RATE_PER_SECOND = 500;
/** Requests of the light load in a full run (and in `--quick`). */
export const LIGHT_REQUESTS = { full: 5_000, quick: 200 } as const;
/**
 * Requests sent the same way just before the measured ones, not counted (full run, `--quick`): at
 * 500/s V8 is still compiling the server's path for about ten seconds (its platform threads spent
 * 58 us per IAMAT in the first 10 s, 15 us in the next; docs/benchmarks.md "light load and idle
 * (issue 22: where the CPU goes, 2026-12-02)"), a start-up cost and not one of each IAMAT. The
 * echo server gets the same warm-up.
 */
export const LIGHT_WARMUP_REQUESTS = { full: 5_000, quick: 100 } as const;
/** How long the idle herd is watched, ms, in a full run (and in `--quick`). */
export const IDLE_WINDOW_MS = { full: 10_000, quick: 1_000 } as const;
/**
 * Time the idle herd is given to settle before it is watched, ms: links up, the first anti-entropy
 * rounds, and V8 done giving back the memory of its start (its memory reducer collects and unmaps
 * for about a minute after the start's allocations; with 20 s the window still saw it).
 */
const IDLE_SETTLE_MS = { full: 60_000, quick: 1_000 } as const;

/** The light-load and idle figures, as `--json` reports them under `cost_us`. */
export interface LightCostResult {
  /** Server CPU per IAMAT at the light rate, one at a time, us. */
  readonly light_iamat: number;
  /** Echo server CPU per line at the same rate, us: the floor of `light_iamat`. */
  readonly light_echo_line: number;
  /** `light_iamat / light_echo_line`: the median of the rounds' own ratios. */
  readonly light_ratio: number;
  /** Every round's two figures, in the order run. */
  readonly light_rounds: readonly { readonly iamat: number; readonly echo_line: number }[];
  readonly light_rate_per_s: number;
  /** Each idle server's CPU as a percentage of one core, by name. */
  readonly idle_cpu_percent: Readonly<Record<string, number>>;
  /**
   * The floor of `idle_cpu_percent`, read in the same window: the most of two bare `node` processes
   * doing only the heartbeat I/O of the busiest member (bench/heartbeat-floor.mjs).
   */
  readonly idle_floor_cpu_percent: number;
  readonly idle_window_ms: number;
}

async function cpuUs(pid: number, probeDir: string): Promise<number> {
  const probed = await probeMemory(pid, probeDir);
  return probed.cpuUserUs + probed.cpuSystemUs;
}

/**
 * CPU microseconds of an idle server so far, read from outside (`/proc/<pid>/task/*\/schedstat`), so
 * that nothing runs in the server to answer: the memory probe's first answer costs the server about
 * 8 ms of CPU (compiling and writing its report), which fell in the window, 0.08% of a core over
 * 10 s (docs/benchmarks.md "An idle server's CPU (2026-12-03)"). The probe where there is no `/proc`.
 */
async function idleCpuUs(pid: number, probeDir: string): Promise<number> {
  try {
    return (await threadsCpuNs(pid)) / 1000;
  } catch {
    return cpuUs(pid, probeDir);
  }
}

/**
 * Sends `requests` IAMATs (client ids `prefix` + a number) to `target` the light load's way: one
 * connection, one at a time, at {@link LIGHT_RATE_PER_SECOND}. Resolves when all are answered.
 */
export async function sendLightLoad(target: LoadTarget, requests: number, prefix: string): Promise<void> {
  await runLoad({
    targets: [target],
    connections: 1,
    window: 1,
    ratePerSecond: LIGHT_RATE_PER_SECOND,
    writer: iamatWriter({ prefix }),
    requests,
  });
}

/** CPU microseconds `pid` spends per request while `requests` IAMATs go to `target` one at a time. */
async function lightLoad(
  target: LoadTarget,
  pid: number,
  probeDir: string,
  requests: number,
  prefix: string,
): Promise<number> {
  const before = await cpuUs(pid, probeDir);
  await sendLightLoad(target, requests, prefix);
  const after = await cpuUs(pid, probeDir);
  return Math.round(((after - before) / requests) * 10) / 10;
}

/** Each of `pids`' CPU over the next `windowMs`, as a percentage of one core, two decimals. */
async function idlePercents(pids: readonly number[], probeDir: string, windowMs: number): Promise<number[]> {
  const started = performance.now();
  const before = await Promise.all(pids.map((pid) => idleCpuUs(pid, probeDir)));
  await sleep(windowMs);
  const after = await Promise.all(pids.map((pid) => idleCpuUs(pid, probeDir)));
  const wallUs = (performance.now() - started) * 1000;
  return pids.map((_, i) => Math.round((((after[i] as number) - (before[i] as number)) / wallUs) * 10_000) / 100);
}

/** Runs the light-load and idle measurements on processes the bench starts. */
export async function runLightCost(context: BenchContext): Promise<LightCostResult> {
  const requests = context.quick ? LIGHT_REQUESTS.quick : LIGHT_REQUESTS.full;
  const warmup = context.quick ? LIGHT_WARMUP_REQUESTS.quick : LIGHT_WARMUP_REQUESTS.full;
  const idleWindowMs = context.quick ? IDLE_WINDOW_MS.quick : IDLE_WINDOW_MS.full;
  const { dir, cleanup } = await benchDir();
  const env = benchEnv({ [PROBE_DIR_ENV]: dir, HERD_BENCH_PROBE_GC: '0' });
  const nodeArgs = memoryProbeNodeArgs();
  const roundCount = context.quick ? COST_ROUNDS.quick : COST_ROUNDS.full;
  try {
    const echo = await startEchoProcess({ nodeArgs, env });
    const soloConfig = await writeBenchConfig(dir, { servers: ['Alford'], logLevel: context.logLevel });
    const rounds: { iamat: number; echo_line: number }[] = [];
    try {
      const solo = await startServe(soloConfig, 'Alford', { nodeArgs, env });
      try {
        await whenPlacesReady([solo]);
        context.progress.update(
          `cost: ${warmup} echoed lines and ${warmup} IAMATs at ${LIGHT_RATE_PER_SECOND}/s, one at a time, not counted`,
        );
        await sendLightLoad(echo.target, warmup, 'warm-');
        await sendLightLoad(solo, warmup, 'warm-');
        for (let round = 1; round <= roundCount; round++) {
          context.progress.update(
            `cost: round ${round} of ${roundCount}: ${requests} echoed lines, then ${requests} IAMATs, at ${LIGHT_RATE_PER_SECOND}/s, one at a time`,
          );
          const echoLine = await lightLoad(echo.target, echo.pid, dir, requests, `light-${round}-`);
          const iamat = await lightLoad(solo, solo.pid, dir, requests, `light-${round}-`);
          rounds.push({ iamat, echo_line: echoLine });
        }
      } finally {
        await solo.process.stop();
      }
    } finally {
      await echo.process.stop();
    }
    context.progress.update(`cost: the shipped herd and its floor idle for ${idleWindowMs / 1000} s`);
    const herdConfig = await writeBenchConfig(dir, { logLevel: context.logLevel });
    const herd = await startHerdProcess(herdConfig, { nodeArgs, env });
    const idle: Record<string, number> = {};
    let floor: number[];
    try {
      const heartbeats = await startHeartbeatFloor({ nodeArgs, env });
      try {
        await sleep(context.quick ? IDLE_SETTLE_MS.quick : IDLE_SETTLE_MS.full);
        const pids = [...herd.members.map((member) => member.pid), ...heartbeats.pids];
        const percent = await idlePercents(pids, dir, idleWindowMs);
        herd.members.forEach((member, i) => (idle[member.name] = percent[i] as number));
        floor = percent.slice(herd.members.length);
      } finally {
        await heartbeats.stop();
      }
    } finally {
      await herd.process.stop();
    }
    return {
      light_iamat: roundsMedian(rounds, 'iamat'),
      light_echo_line: roundsMedian(rounds, 'echo_line'),
      light_ratio: roundsRatio(rounds, 'iamat', 'echo_line'),
      light_rounds: rounds,
      light_rate_per_s: LIGHT_RATE_PER_SECOND,
      idle_cpu_percent: idle,
      idle_floor_cpu_percent: Math.max(...floor),
      idle_window_ms: idleWindowMs,
    };
  } finally {
    await cleanup();
  }
}

/** The table rows of the light-load and idle figures. */
export function lightCostRows(result: LightCostResult): (readonly [string, string, string, string, string, string])[] {
  const idle = Object.values(result.idle_cpu_percent);
  const worst = idle.length === 0 ? 0 : Math.max(...idle);
  const median = roundsLabel(result.light_rounds);
  const oneDecimal = (value: number): string => value.toFixed(1);
  return [
    [
      'cost',
      `echo server CPU per line at ${result.light_rate_per_s}/s, one at a time, us${median}: the floor`,
      result.light_echo_line.toFixed(1),
      roundsSpread(result.light_rounds, 'echo_line', oneDecimal),
      '1.0x echo',
      '',
    ],
    [
      'cost',
      `server CPU per IAMAT at ${result.light_rate_per_s}/s, one at a time, us${median}`,
      result.light_iamat.toFixed(1),
      roundsSpread(result.light_rounds, 'iamat', oneDecimal, 'echo_line'),
      `${result.light_ratio.toFixed(1)}x echo`,
      '<= 1.5x',
    ],
    [
      'cost',
      `idle floor: bare node, heartbeats of one member, % of a core, most of 2 (${result.idle_window_ms / 1000} s)`,
      result.idle_floor_cpu_percent.toFixed(2),
      '',
      '1.0x',
      '',
    ],
    [
      'cost',
      `idle server CPU, % of a core, most of ${idle.length} (${result.idle_window_ms / 1000} s)`,
      worst.toFixed(2),
      Object.entries(result.idle_cpu_percent)
        .map(([name, percent]) => `${name} ${percent.toFixed(2)}`)
        .join(', '),
      result.idle_floor_cpu_percent > 0 ? `${(worst / result.idle_floor_cpu_percent).toFixed(1)}x` : '',
      '<= 0.2',
    ],
  ];
}
