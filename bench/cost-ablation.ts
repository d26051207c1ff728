/**
 * What an IAMAT costs beyond the echo server, part by part: an IAMAT figure like the cost
 * scenario's (./scenarios/cost.ts: new clients at W=16 after a warm-up, but on one connection where
 * the scenario spreads them over `BENCH_CONNECTIONS`) read on four servers side by side, each with
 * parts of its work turned off in its config, beside the echo server in the same rounds
 * (docs/benchmarks.md "What an IAMAT costs beyond the echo, part by part (2026-12-04)").
 * Not a scenario of `npm run bench`: the parts turned off are guarantees the product keeps.
 *
 *     node --import tsx bench/cost-ablation.ts [operations per reading] [rounds]
 *
 * - `as shipped`: a durable store (SQLite on its writer thread) and `info` logs (a line per command);
 * - `no durable store`: `store.durable: false`, the table in memory only;
 * - `no command log`: `logLevel: "warn"`;
 * - `neither`: both off: framing, parsing, the table with its digest, the reply and the metrics.
 *
 * Each round reads the echo first, then each server in that order, each after the one before is at
 * rest ({@link whenQuiet}). CPU is read per thread from `/proc/<pid>/task/<tid>/schedstat`
 * (process-probes.ts `mainAndOtherCpuNs`): the main thread, and the others (the store's writer, V8's
 * collector and compiler, libuv's pool). Each figure is the median of its rounds; its ratio is the
 * median of the rounds' own ratios to that round's echo.
 */
import type { HerdConfig } from '../src/config/herd-schema.js';
import {
  benchDir,
  benchEnv,
  mainAndOtherCpuNs,
  startEchoProcess,
  startServe,
  whenPlacesReady,
  whenQuiet,
} from './bench-processes.js';
import type { LoadTarget } from './load-client.js';
import { median } from './median.js';
import { COST_OPERATIONS, COST_WARMUP, iamatLoad } from './scenarios/cost.js';
import { writeCostConfig } from './scenarios/cost-link.js';

/** A server of the ablation: its name, and the parts its config keeps. */
interface Variant {
  readonly label: string;
  readonly name: string;
  readonly durable: boolean;
  readonly logLevel: HerdConfig['logLevel'];
}

const VARIANTS: readonly Variant[] = [
  { label: 'as shipped', name: 'Shipped', durable: true, logLevel: 'info' },
  { label: 'no durable store', name: 'NoStore', durable: false, logLevel: 'info' },
  { label: 'no command log', name: 'NoLog', durable: true, logLevel: 'warn' },
  { label: 'neither', name: 'Neither', durable: false, logLevel: 'warn' },
];

/** CPU per operation of one reading, us: the main thread's and the other threads'. */
interface Reading {
  readonly main: number;
  readonly other: number;
}

/** Sends `operations` IAMATs of new clients `prefix<n>` on one connection and reads the CPU they cost `pid`. */
async function read(target: LoadTarget, pid: number, prefix: string, operations: number): Promise<Reading> {
  await whenQuiet(pid);
  const before = mainAndOtherCpuNs(pid);
  await iamatLoad(target, prefix, operations, 1);
  await whenQuiet(pid);
  const after = mainAndOtherCpuNs(pid);
  return {
    main: (after.main - before.main) / 1000 / operations,
    other: (after.other - before.other) / 1000 / operations,
  };
}

const fixed = (value: number): string => value.toFixed(2);

async function main(): Promise<void> {
  const operations = Number(process.argv[2] ?? COST_OPERATIONS.full);
  const rounds = Number(process.argv[3] ?? 3);
  if (!Number.isInteger(operations) || operations < 1 || !Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('usage: node --import tsx bench/cost-ablation.ts [operations >= 1] [rounds >= 1]\n');
    process.exitCode = 2;
    return;
  }
  const { dir, cleanup } = await benchDir();
  const env = benchEnv();
  const stops: (() => Promise<void>)[] = [];
  try {
    const echo = await startEchoProcess({ env });
    stops.push(() => echo.process.stop());
    const servers = [];
    for (const variant of VARIANTS) {
      const config = await writeCostConfig(dir, variant.name, variant, false, variant.durable);
      const server = await startServe(config, variant.name, { env });
      stops.push(() => server.process.stop());
      servers.push({ variant, server });
    }
    await whenPlacesReady(servers.map(({ server }) => server));
    const warmUp = (target: LoadTarget): Promise<unknown> => iamatLoad(target, 'warm-', COST_WARMUP.full, 1);
    await warmUp(echo.target);
    for (const { server } of servers) await warmUp(server);
    const echoRounds: Reading[] = [];
    const serverRounds = new Map<Variant, Reading[]>(VARIANTS.map((variant) => [variant, []]));
    for (let round = 0; round < rounds; round++) {
      echoRounds.push(await read(echo.target, echo.pid, `echo-${round}-`, operations));
      for (const { variant, server } of servers) {
        serverRounds.get(variant)?.push(await read(server, server.pid, `${variant.name}-${round}-`, operations));
      }
      process.stderr.write(`round ${round + 1} of ${rounds} done\n`);
    }
    const total = (reading: Reading): number => reading.main + reading.other;
    const echoTotals = echoRounds.map(total);
    const rows = [['', 'us per IAMAT (rounds)', 'main thread', 'other threads', 'x echo (rounds)']];
    rows.push([
      'echo server (the floor)',
      `${fixed(median(echoTotals))} (${echoTotals.map(fixed).join(', ')})`,
      fixed(median(echoRounds.map((reading) => reading.main))),
      fixed(median(echoRounds.map((reading) => reading.other))),
      '1.0',
    ]);
    for (const variant of VARIANTS) {
      const readings = serverRounds.get(variant) ?? [];
      const totals = readings.map(total);
      const ratios = totals.map((value, round) => value / (echoTotals[round] as number));
      rows.push([
        variant.label,
        `${fixed(median(totals))} (${totals.map(fixed).join(', ')})`,
        fixed(median(readings.map((reading) => reading.main))),
        fixed(median(readings.map((reading) => reading.other))),
        `${median(ratios).toFixed(1)} (${ratios.map((ratio) => ratio.toFixed(1)).join(', ')})`,
      ]);
    }
    const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
    process.stdout.write(
      `cost ablation: ${operations.toLocaleString('en-US')} IAMATs of new clients at W=16 per reading, ${rounds} rounds\n`,
    );
    for (const row of rows) {
      process.stdout.write(
        `${row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
    await cleanup();
  }
}

await main();
