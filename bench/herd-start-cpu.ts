/**
 * The CPU a whole herd spends to start: `herd start` of the default five (admin ports, fresh data
 * folder, logs at `info`), and the CPU of the supervisor and its servers (user + system, every
 * thread, from `/proc/<pid>/stat`) at the moment it prints its `servers up` line, and again
 * {@link AFTER_MS} later. On two shared cores the wall-clock time of a herd's start swings with the
 * other load; the CPU it spends is what holds (docs/benchmarks.md "Startup"). Builds given as CLI
 * paths are started alternately, a fresh folder each time; Linux only.
 *
 *     node --import tsx bench/herd-start-cpu.ts [RUNS] [CLI ...]   # default: 5 runs of this checkout's build
 *     node --import tsx bench/herd-start-cpu.ts 5 /tmp/main/dist/bundle/main.js dist/bundle/main.js
 *
 * A CLI is the node arguments before `start --config FILE`, split at spaces, as in
 * ./serve-start-cpu.ts: a build's `dist/bundle/main.js`, or node options such as
 * `"--snapshot-blob /tmp/herd.blob"` (a word that starts with `-` is passed as it is).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeBenchConfig } from './bench-config.js';
import { BenchProcess, CLI, sleep } from './bench-processes.js';
import { median } from './median.js';
import { HERD_UP_LINE } from '../src/cli/start-report.js';

/** The second reading, after the `servers up` line: the admin parts and the writer threads are in, ms. */
const AFTER_MS = 2_500;

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/** User + system CPU of every thread of `pid`, ms (0 when it is gone). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** The children of `pid` (its servers). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text !== '') out.push(...text.split(' ').map(Number));
    }
  } catch {
    // Gone: no children.
  }
  return out;
}

/** CPU of the supervisor `pid` and its servers, ms. */
const herdCpuMs = (pid: number): number => childrenOf(pid).reduce((sum, child) => sum + cpuMs(child), cpuMs(pid));

/** One start of `cli`: [wall ms to `servers up`, CPU ms then, CPU ms {@link AFTER_MS} later]. */
async function startOnce(cli: readonly string[]): Promise<[number, number, number]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-start-cpu-'));
  try {
    const configFile = await writeBenchConfig(dir, { logLevel: 'info', fixedPorts: true });
    const spawnedAt = performance.now();
    const herd = new BenchProcess(process.execPath, [...cli, 'start', '--config', configFile]);
    try {
      await herd.waitForLine(HERD_UP_LINE);
      const upMs = performance.now() - spawnedAt;
      const atUp = herdCpuMs(herd.pid);
      await sleep(AFTER_MS);
      return [upMs, atUp, herdCpuMs(herd.pid)];
    } finally {
      await herd.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const runs = Number(process.argv[2] ?? 5);
const clis = (process.argv.length > 3 ? process.argv.slice(3) : [CLI]).map((cli) =>
  cli
    .split(' ')
    .filter((word) => word !== '')
    .map((word) => (word.startsWith('-') ? word : path.resolve(word))),
);
const results = new Map<string, [number, number, number][]>(clis.map((cli) => [cli.join(' '), []]));
for (let i = 0; i < runs; i++) {
  for (const args of clis) {
    const run = await startOnce(args);
    const cli = args.join(' ');
    results.get(cli)?.push(run);
    const [up, atUp, later] = run.map(Math.round);
    process.stdout.write(
      `${cli} run ${i + 1}: servers up ${up} ms; CPU then ${atUp} ms, ${AFTER_MS} ms later ${later} ms\n`,
    );
  }
}
for (const [cli, list] of results) {
  const column = (k: number): string => Math.round(median(list.map((run) => run[k] as number))).toLocaleString('en-US');
  process.stdout.write(
    `${cli}: median of ${list.length}: servers up ${column(0)} ms; CPU at servers up ${column(1)} ms, ${AFTER_MS} ms later ${column(2)} ms\n`,
  );
}
