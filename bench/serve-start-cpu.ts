/**
 * The CPU one `herd serve` spends to start, beside a bare `node` listener's: the process's on-CPU
 * time (every thread, nanoseconds from `/proc/<pid>/task/<tid>/schedstat`) at the instant its client
 * port first accepts, and again {@link AFTER_MS} later (the admin parts load after listening). Also
 * spawn to accepting, which on two shared cores swings with the other load; the CPU holds
 * (docs/benchmarks.md "Startup"). One server as the startup scenario starts it: a fresh data
 * folder, the default place data, an admin port. The floor and each build are started in turn, a
 * fresh folder each time; Linux only.
 *
 *     node --import tsx bench/serve-start-cpu.ts [RUNS] [BUILD ...]   # default: 9 runs of this checkout's build
 *     node --import tsx bench/serve-start-cpu.ts 9 /tmp/main/dist/bundle/main.js dist/bundle/main.js
 *
 * A BUILD is the node arguments before `serve NAME --config FILE`, split at spaces: a build's
 * `dist/bundle/main.js`, or node options and a script, e.g. `"--snapshot-blob /tmp/herd.blob"` (a
 * word that starts with `-` is passed as it is; any other is a path).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BenchProcess, CLI, restartablePort, sleep } from './bench-processes.js';
import { connectTheInstantItAccepts } from '../test/helpers/loopback.js';
import { mainAndOtherCpuNs } from './process-probes.js';
import { writeSoloConfig } from './scenarios/startup.js';
import { median } from './median.js';

/** The second reading, after the first accept, ms. */
const AFTER_MS = 2_000;
/** Longest wait for a start to accept, ms. */
const ACCEPT_TIMEOUT_MS = 30_000;

/** On-CPU time of every live thread of `pid`, ms (0 when it is gone). */
function cpuMs(pid: number): number {
  try {
    const { main, other } = mainAndOtherCpuNs(pid);
    return (main + other) / 1e6;
  } catch {
    return 0;
  }
}

/** One start of `args` (its client port `port`): [spawn to accepting, CPU then, CPU later], ms. */
async function startOnce(args: readonly string[], port: number): Promise<[number, number, number]> {
  const spawnedAt = performance.now();
  const child = new BenchProcess(process.execPath, args);
  try {
    (await connectTheInstantItAccepts(port, ACCEPT_TIMEOUT_MS)).destroy();
    const acceptMs = performance.now() - spawnedAt;
    const atAccept = cpuMs(child.pid);
    await sleep(AFTER_MS);
    return [acceptMs, atAccept, cpuMs(child.pid)];
  } finally {
    await child.stop();
  }
}

/** One start of `herd serve` by `build` on a fresh one-server config in a fresh folder. */
async function serveOnce(build: readonly string[]): Promise<[number, number, number]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'serve-start-cpu-'));
  try {
    const [configFile, port] = await writeSoloConfig(dir, 'info');
    return await startOnce([...build, 'serve', 'Alford', '--config', configFile], port);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One start of the floor: a bare `node` that only listens. */
async function floorOnce(): Promise<[number, number, number]> {
  const port = await restartablePort();
  return startOnce(['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1')`], port);
}

const runs = Number(process.argv[2] ?? 9);
const builds = (process.argv.length > 3 ? process.argv.slice(3) : [CLI]).map((build) =>
  build
    .split(' ')
    .filter((word) => word !== '')
    .map((word) => (word.startsWith('-') ? word : path.resolve(word))),
);
const names = ['floor', ...builds.map((build) => build.join(' '))];
const results = new Map<string, [number, number, number][]>(names.map((name) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const [k, name] of names.entries()) {
    const build = builds[k - 1];
    const run = build === undefined ? await floorOnce() : await serveOnce(build);
    results.get(name)?.push(run);
    const [accept, atAccept, later] = run.map(Math.round);
    process.stdout.write(
      `${name} run ${i + 1}: accepting ${accept} ms; CPU then ${atAccept} ms, ${AFTER_MS} ms later ${later} ms\n`,
    );
  }
}
const floorCpu = median((results.get('floor') ?? []).map((run) => run[1]));
for (const [name, list] of results) {
  const column = (k: number): number => Math.round(median(list.map((run) => run[k] as number)));
  const ratio = (column(1) / floorCpu).toFixed(2);
  process.stdout.write(
    `${name}: median of ${list.length}: accepting ${column(0)} ms; CPU at accepting ${column(1)} ms (${ratio}x the floor's), ${AFTER_MS} ms later ${column(2)} ms\n`,
  );
}
