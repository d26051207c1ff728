/**
 * Scenario `cost` (issue "The hot path at the limit"): server CPU time per operation, the figure that
 * noise on a shared machine moves least. Each is `process.cpuUsage()` of the server process (read by
 * the bench's probe preload, bench/memory-probe.mjs, without a garbage collection) over a fixed
 * count of operations, divided by that count:
 *
 * - `iamat`: one server, no peers; IAMATs of distinct new clients at W=16 (each stored, persisted,
 *   logged and answered);
 * - `flood_stored`: a server with one neighbour; the bench dials its peer port as that neighbour,
 *   passes the handshake and sends AT lines of new clients (each parsed, stored, persisted, logged;
 *   split horizon sends nothing back);
 * - `flood_stale`: the same lines again, so every one is stale (the commonest flood in a herd: the
 *   same update arriving by a second path);
 * - `whatsat`: `WHATSAT <client> 10 20` in a dense area at W=16 (look-up, JSON, reply, log).
 *
 * - `echo_line`: the floor, the echo server (bench/echo-server.ts) answering the same IAMAT lines at
 *   W=16, measured the same way in the same run: every figure above is read as a multiple of it;
 * - the light-load and idle figures of ./cost-light.ts.
 *
 * The figures are read in rounds (`COST_ROUNDS`, ./cost-rounds.ts), each round all of them in the
 * order above, the echo first, on the same processes (started and warmed once): the machine's own
 * pace drifts by half between runs minutes apart (the echo's CPU per line at 500/s read 118 and
 * 61 us on 2026-12-04), and a round's figures share its pace. Each figure is the median of its
 * rounds, and its ratio to the echo is the median of the rounds' own ratios; the rounds are in the
 * JSON.
 *
 * Each figure is read after a warm-up of the same kind of operation, not counted ({@link COST_WARMUP}):
 * the first operations a fresh process runs carry V8's compiling of their path (a fifth to a quarter
 * of a cold IAMAT figure) and, for WHATSAT, the first look-up of each client, which the issue's
 * figure ("cached") leaves out. The echo server gets the same warm-up.
 *
 * Each reading after the operations waits until the server is at rest (bench/process-probes.ts
 * `whenQuiet`): the store commits a burst's rows on its writer thread after the last reply, and that
 * work belongs to the burst (before 2026-12-03 it was charged to the next figure: the stale floods
 * carried the stored floods' commits).
 *
 * The profile of where the time goes: `npm run bench -- --only cost --cpu-prof DIR`.
 */
import type net from 'node:net';
import type { BenchContext } from '../bench-context.js';
import { ScenarioSkipped } from '../bench-error.js';
import {
  BENCH_SECRET,
  PROBE_DIR_ENV,
  benchDir,
  benchEnv,
  memoryProbeNodeArgs,
  probeMemory,
  startEchoProcess,
  startServe,
  whenPlacesReady,
  whenQuiet,
  type QuietOptions,
} from '../bench-processes.js';
import { runLoad, type LoadTarget } from '../load-client.js';
import { iamatWriter } from '../request-writers.js';
import { lightCostRows, runLightCost, type LightCostResult } from './cost-light.js';
import { dialAsNeighbour, flood, floodLinesOf, writeCostConfig } from './cost-link.js';
import { COST_ROUNDS, roundsLabel, roundsMedian, roundsRatio, roundsSpread } from './cost-rounds.js';
import { checkInDenseClients, sendDenseWhatsats } from './whatsat.js';

/** Operations per measured figure in a full run (and in `--quick`). */
export const COST_OPERATIONS = { full: 100_000, quick: 5_000 } as const;
/** WHATSATs per measured figure: they cost several times an IAMAT. */
export const COST_WHATSATS = { full: 20_000, quick: 1_000 } as const;
/**
 * Operations sent before the first round and not counted: echoed lines, IAMATs, floods (new clients,
 * then the same again), WHATSATs (the same clients as the measured ones, so those are answered from
 * kept documents).
 */
export const COST_WARMUP = { full: 20_000, quick: 500 } as const;

/** Requests in flight per connection of the IAMAT and WHATSAT figures (W). */
export const COST_WINDOW = 16;

/**
 * Sends `requests` IAMATs (or lines to the echo server) to `target` at W={@link COST_WINDOW} over
 * `connections` connections, each a new client id of `prefix` (bench/request-writers.ts).
 */
export function iamatLoad(target: LoadTarget, prefix: string, requests: number, connections: number): Promise<unknown> {
  return runLoad({ targets: [target], connections, window: COST_WINDOW, writer: iamatWriter({ prefix }), requests });
}
/**
 * Most CPU a window at rest may hold, as a share of one core, when the servers run under
 * `--cpu-prof`: V8's sampling thread alone takes about 6% of a core (a sample a millisecond), so
 * the default 2% would never be reached.
 */
const PROFILED_REST_SHARE = 0.1;

/** Server CPU per operation in one round, microseconds. */
export interface CostRound {
  /** The floor: CPU of the echo server (bench/echo-server.ts) per line, the same IAMAT lines at W=16. */
  readonly echo_line: number;
  readonly iamat: number;
  readonly flood_stored: number;
  readonly flood_stale: number;
  readonly whatsat: number;
}

/** The figures of {@link CostRound} but the floor. */
export type CostFigure = Exclude<keyof CostRound, 'echo_line'>;
const COST_FIGURES: readonly CostFigure[] = ['iamat', 'flood_stored', 'flood_stale', 'whatsat'];

/**
 * Server CPU per operation, microseconds, as `--json` reports it under `cost_us`: each figure the
 * median of its rounds.
 */
export interface CostResult extends CostRound {
  /** Each figure as a multiple of the echo's CPU per line: the median of the rounds' own ratios. */
  readonly ratios: Readonly<Record<CostFigure, number>>;
  /** Every round, in the order run. */
  readonly rounds: readonly CostRound[];
  /** Operations behind each figure in each round. */
  readonly operations: { readonly iamat: number; readonly floods: number; readonly whatsat: number };
  /** The light-load and idle figures (./cost-light.ts). */
  readonly light: LightCostResult;
}

/** The medians of `rounds` (at least one), each figure's ratio to the echo the median of the rounds' ratios. */
export function costMedians(rounds: readonly CostRound[]): Pick<CostResult, keyof CostRound | 'ratios' | 'rounds'> {
  const of = (key: keyof CostRound): number => roundsMedian(rounds, key);
  const ratioOf = (key: CostFigure): number => roundsRatio(rounds, key, 'echo_line');
  return {
    echo_line: of('echo_line'),
    iamat: of('iamat'),
    flood_stored: of('flood_stored'),
    flood_stale: of('flood_stale'),
    whatsat: of('whatsat'),
    ratios: Object.fromEntries(COST_FIGURES.map((key) => [key, ratioOf(key)])) as Record<CostFigure, number>,
    rounds,
  };
}

/** CPU time of a whole process (every thread) so far, microseconds (user + system). */
async function cpuUs(server: { readonly pid: number }, probeDir: string): Promise<number> {
  const probed = await probeMemory(server.pid, probeDir);
  return probed.cpuUserUs + probed.cpuSystemUs;
}

/**
 * CPU microseconds the process spends on `work`, per operation: read before it and once the process
 * is at rest after it ({@link whenQuiet}), so the work it leaves behind (commits of its rows on the
 * store's writer thread) counts for it, not for the figure measured next.
 */
async function perOperation(
  server: { readonly pid: number },
  probeDir: string,
  operations: number,
  work: () => Promise<unknown>,
  rest: QuietOptions = {},
): Promise<number> {
  const before = await cpuUs(server, probeDir);
  await work();
  await whenQuiet(server.pid, rest);
  const after = await cpuUs(server, probeDir);
  return Math.round(((after - before) / operations) * 100) / 100;
}

/** Runs `work` uncounted (a warm-up) and waits until the process is at rest after it. */
async function warmUp(
  server: { readonly pid: number },
  work: () => Promise<unknown>,
  rest: QuietOptions = {},
): Promise<void> {
  await work();
  await whenQuiet(server.pid, rest);
}

/** Runs the cost scenario on servers the bench starts. */
export async function runCost(context: BenchContext): Promise<CostResult> {
  if (context.target !== undefined)
    throw new ScenarioSkipped('the cost scenario reads the CPU time of servers the bench starts (not with --config)');
  const operations = context.quick ? COST_OPERATIONS.quick : COST_OPERATIONS.full;
  const whatsats = context.quick ? COST_WHATSATS.quick : COST_WHATSATS.full;
  const warmups = context.quick ? COST_WARMUP.quick : COST_WARMUP.full;
  const roundCount = context.quick ? COST_ROUNDS.quick : COST_ROUNDS.full;
  /** IAMATs (or echoed lines) to `target`, each a new client id of `prefix`. */
  const iamats = (target: LoadTarget, prefix: string, requests: number) => () =>
    iamatLoad(target, prefix, requests, context.connections);
  /** WHATSATs at W=16 for the dense clients. */
  const whatsatLoad = (target: LoadTarget, requests: number) => () =>
    sendDenseWhatsats(target, context.connections, requests);
  const { dir, cleanup } = await benchDir();
  const env = benchEnv({ [PROBE_DIR_ENV]: dir, HERD_BENCH_PROBE_GC: '0' });
  const nodeArgs = [...memoryProbeNodeArgs(), ...context.serverNodeArgs];
  const rest: QuietOptions = context.serverNodeArgs.includes('--cpu-prof') ? { maxShare: PROFILED_REST_SHARE } : {};
  const stops: (() => Promise<void>)[] = [];
  let link: net.Socket | undefined;
  try {
    context.progress.update('cost: starting the echo server, a server, and a server with the bench as its neighbour');
    const echo = await startEchoProcess({ nodeArgs: memoryProbeNodeArgs(), env });
    stops.push(() => echo.process.stop());
    const solo = await startServe(await writeCostConfig(dir, 'Solo', context, false), 'Solo', { nodeArgs, env });
    stops.push(() => solo.process.stop());
    const relay = await startServe(await writeCostConfig(dir, 'Relay', context, true), 'Relay', { nodeArgs, env });
    stops.push(() => relay.process.stop());
    await whenPlacesReady([solo, relay]);
    link = await dialAsNeighbour(relay, {
      name: 'Peer',
      incarnation: `bench-${Date.now()}`,
      secret: Buffer.from(BENCH_SECRET, 'utf8'),
    });
    const neighbour = link;
    const seconds = Math.floor(Date.now() / 1000) - 3600;
    const warmLines = floodLinesOf('warm-flood-', warmups, seconds);

    context.progress.update(`cost: warming up, ${warmups.toLocaleString('en-US')} of each operation`);
    await warmUp(echo, iamats(echo.target, 'warm-', warmups));
    await warmUp(solo, iamats(solo, 'warm-', warmups), rest);
    await checkInDenseClients(solo);
    await warmUp(solo, whatsatLoad(solo, warmups), rest);
    await warmUp(relay, () => flood(neighbour, relay, warmLines, 'warm-marker-1'), rest);
    await warmUp(relay, () => flood(neighbour, relay, warmLines, 'warm-marker-2'), rest);

    const rounds: CostRound[] = [];
    for (let round = 1; round <= roundCount; round++) {
      const step = (what: string): void => context.progress.update(`cost: round ${round} of ${roundCount}: ${what}`);
      step(`${operations.toLocaleString('en-US')} echoed lines`);
      const echoLine = await perOperation(echo, dir, operations, iamats(echo.target, `cost-${round}-`, operations));
      step(`${operations.toLocaleString('en-US')} IAMATs`);
      const iamat = await perOperation(solo, dir, operations, iamats(solo, `cost-${round}-`, operations), rest);
      step(`${whatsats.toLocaleString('en-US')} WHATSATs`);
      const whatsat = await perOperation(solo, dir, whatsats, whatsatLoad(solo, whatsats), rest);
      const lines = floodLinesOf(`flood-${round}-`, operations, seconds);
      step(`${operations.toLocaleString('en-US')} new floods`);
      const floodStored = await perOperation(
        relay,
        dir,
        operations,
        () => flood(neighbour, relay, lines, `marker-${round}-1`),
        rest,
      );
      step(`${operations.toLocaleString('en-US')} stale floods`);
      const floodStale = await perOperation(
        relay,
        dir,
        operations,
        () => flood(neighbour, relay, lines, `marker-${round}-2`),
        rest,
      );
      rounds.push({ echo_line: echoLine, iamat, flood_stored: floodStored, flood_stale: floodStale, whatsat });
    }
    link.destroy();
    while (stops.length > 0) await stops.pop()?.();
    const light = await runLightCost(context);
    return {
      ...costMedians(rounds),
      operations: { iamat: operations, floods: operations, whatsat: whatsats },
      light,
    };
  } finally {
    link?.destroy();
    while (stops.length > 0) await stops.pop()?.();
    await cleanup();
  }
}

/** The table rows of the cost figures: scenario, figure, value, and four empty columns. */
export function costRows(cost: CostResult): (readonly [string, string, string, string, string, string])[] {
  const us = (n: number): string => (n >= 100 ? String(Math.round(n)) : n.toFixed(1));
  const count = (n: number): string => n.toLocaleString('en-US');
  const median = roundsLabel(cost.rounds);
  /** Every round's value, and its ratio to that round's echo, for the table's spread column. */
  const spread = (key: keyof CostRound): string =>
    roundsSpread(cost.rounds, key, us, key === 'echo_line' ? undefined : 'echo_line');
  // Each figure as a multiple of the floor measured in the same run: only ratios compare across runs.
  const row = (key: CostFigure, figure: string, target: string) =>
    ['cost', figure, us(cost[key]), spread(key), `${cost.ratios[key].toFixed(1)}x echo`, target] as const;
  return [
    [
      'cost',
      `echo server CPU per line, us (${count(cost.operations.iamat)}, W=16${median}): the floor`,
      us(cost.echo_line),
      spread('echo_line'),
      '1.0x echo',
      '',
    ],
    row('iamat', `server CPU per IAMAT, us (${count(cost.operations.iamat)}, W=16${median})`, '<= 4x'),
    row('flood_stored', `server CPU per stored flood, us (${count(cost.operations.floods)}${median})`, '<= 3x'),
    row('flood_stale', `server CPU per stale flood, us (${count(cost.operations.floods)}${median})`, '<= 1x'),
    row('whatsat', `server CPU per WHATSAT, us (${count(cost.operations.whatsat)}, 10 km, bound 20${median})`, '<= 8x'),
    ...lightCostRows(cost.light),
  ];
}
