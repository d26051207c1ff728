/**
 * The timeline of one `herd start` of the default five (admin ports, fresh data folder, logs at
 * `info`): when, after the spawn, the supervisor's Node is up, it reads its config, it forks each
 * server (and returns from the fork); when each server's Node is up, it reads the config, its
 * client port listens and first accepts (a connection tried every millisecond); and when the
 * `servers up` line comes. Each process notes its own moments on the shared wall clock
 * (./start-timeline-probe.cjs, which every process of the herd preloads); the bench notes the spawn,
 * the accepts and the line. Builds given as CLI paths are started alternately, a fresh folder each
 * time; the medians of each moment close the output. Linux or macOS; a hunting tool: the preload
 * itself costs each process a few milliseconds.
 *
 *     node --import tsx bench/herd-start-timeline.ts [RUNS] [CLI ...]   # default: 5 runs of this checkout's build
 *     node --import tsx bench/herd-start-timeline.ts 5 /tmp/main/dist/bundle/main.js dist/bundle/main.js
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeBenchConfig } from './bench-config.js';
import { BenchProcess, CLI, PACKAGE_ROOT, benchEnv } from './bench-processes.js';
import { median } from './scenarios/startup-report.js';
import { HERD_UP_LINE } from '../src/cli/start-report.js';
import { connectTheInstantItAccepts } from '../test/helpers/loopback.js';

const PROBE = path.join(PACKAGE_ROOT, 'bench', 'start-timeline-probe.cjs');

/** The wall clock the probe notes its moments on, ms since the epoch. */
const wallNow = (): number => performance.timeOrigin + performance.now();

/** One run: each moment's name and its time after the spawn, ms, in order. */
type Timeline = [string, number][];

/** One `herd start` of `cli`, until its `servers up` line and every client port accepting. */
async function startOnce(cli: string): Promise<Timeline> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-start-timeline-'));
  const notes = path.join(dir, 'timeline.txt');
  try {
    const configFile = await writeBenchConfig(dir, { logLevel: 'info', fixedPorts: true });
    const servers = (JSON.parse(readFileSync(configFile, 'utf8')) as { servers: { name: string; port: number }[] })
      .servers;
    const env = benchEnv({ HERD_BENCH_TIMELINE_FILE: notes, HERD_BENCH_TIMELINE_CONFIG: configFile });
    const spawnedAt = wallNow();
    const herd = new BenchProcess(process.execPath, ['--require', PROBE, cli, 'start', '--config', configFile], {
      env,
    });
    const moments: Timeline = [];
    try {
      const accepts = servers.map(async (server) => {
        (await connectTheInstantItAccepts(server.port, 30_000)).destroy();
        moments.push([`${server.name}: first accept`, wallNow() - spawnedAt]);
      });
      await herd.waitForLine(HERD_UP_LINE);
      moments.push(['servers up line', wallNow() - spawnedAt]);
      await Promise.all(accepts);
    } finally {
      await herd.stop();
    }
    const nameOf = new Map<string, string>([[String(herd.pid), 'supervisor']]);
    const portName = new Map(servers.map((server) => [String(server.port), server.name]));
    const lines = readFileSync(notes, 'utf8').trim().split('\n');
    for (const line of lines) {
      const [, pid, event, detail] = line.split(' ');
      if (nameOf.get(pid ?? '') === 'supervisor' && event === 'fork') nameOf.set(`next`, detail ?? '?');
      if (event === 'forked') nameOf.set(detail ?? '', nameOf.get('next') ?? '?');
    }
    for (const line of lines) {
      const [at, pid, event, detail] = line.split(' ');
      const who = nameOf.get(pid ?? '') ?? `pid ${pid}`;
      if (event === 'listening' && !portName.has(detail ?? '')) continue;
      const what = event === 'listening' ? 'client port listening' : event === 'node' ? 'node' : event;
      const label = event === 'fork' || event === 'forked' ? `${who}: ${event} ${detail}` : `${who}: ${what}`;
      if (event === 'forked') continue;
      moments.push([label.replace(/: fork (\S+)$/, ': fork $1'), Number(at) - spawnedAt]);
      if (event === 'fork') {
        const done = lines.find(
          (l) => l.split(' ')[1] === pid && l.split(' ')[2] === 'forked' && Number(l.split(' ')[0]) >= Number(at),
        );
        if (done !== undefined)
          moments.push([`supervisor: fork ${detail} returned`, Number(done.split(' ')[0]) - spawnedAt]);
      }
    }
    return moments.sort((a, b) => a[1] - b[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A server's moments under one name, so that the medians pool the five servers. */
const pooled = (label: string): string =>
  label.startsWith('supervisor') || label === 'servers up line' ? label : `a server${label.slice(label.indexOf(':'))}`;

const runs = Number(process.argv[2] ?? 5);
const clis = (process.argv.length > 3 ? process.argv.slice(3) : [CLI]).map((cli) => path.resolve(cli));
const results = new Map<string, Timeline[]>(clis.map((cli) => [cli, []]));
for (let i = 0; i < runs; i++) {
  for (const cli of clis) {
    const timeline = await startOnce(cli);
    results.get(cli)?.push(timeline);
    process.stdout.write(`${cli} run ${i + 1}:\n`);
    for (const [label, ms] of timeline)
      process.stdout.write(`  ${Math.round(ms).toString().padStart(5)} ms  ${label}\n`);
  }
}
for (const [cli, timelines] of results) {
  process.stdout.write(`${cli}: median of ${timelines.length} runs (servers: of all five), ms after the spawn\n`);
  const byLabel = new Map<string, number[]>();
  for (const timeline of timelines)
    for (const [label, ms] of timeline) byLabel.set(pooled(label), [...(byLabel.get(pooled(label)) ?? []), ms]);
  const rows = [...byLabel].map(([label, list]) => [label, median(list), Math.max(...list)] as const);
  for (const [label, ms, max] of rows.sort((a, b) => a[1] - b[1]))
    process.stdout.write(
      `  ${Math.round(ms).toString().padStart(5)} ms  ${label}${label.startsWith('a server') ? ` (latest ${Math.round(max)})` : ''}\n`,
    );
}
