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
import { median } from './median.js';
import { HERD_UP_LINE } from '../src/cli/start-report.js';
import { connectTheInstantItAccepts } from '../test/helpers/loopback.js';

const PROBE = path.join(PACKAGE_ROOT, 'bench', 'start-timeline-probe.cjs');

/** The wall clock the probe notes its moments on, ms since the epoch. */
const wallNow = (): number => performance.timeOrigin + performance.now();

/** One run: each moment's name, its time after the spawn and its process's CPU then (null: the bench's), ms. */
type Timeline = [string, number, number | null][];

/** One `herd start` of `cli`, until its `servers up` line and every client port accepting. */
async function startOnce(cli: string): Promise<Timeline> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-start-timeline-'));
  const notesFile = path.join(dir, 'timeline.txt');
  try {
    const configFile = await writeBenchConfig(dir, { logLevel: 'info', fixedPorts: true });
    const servers = (JSON.parse(readFileSync(configFile, 'utf8')) as { servers: { name: string; port: number }[] })
      .servers;
    const env = benchEnv({ HERD_BENCH_TIMELINE_FILE: notesFile, HERD_BENCH_TIMELINE_CONFIG: configFile });
    const spawnedAt = wallNow();
    const herd = new BenchProcess(process.execPath, ['--require', PROBE, cli, 'start', '--config', configFile], {
      env,
    });
    const moments: Timeline = [];
    try {
      const accepts = servers.map(async (server) => {
        (await connectTheInstantItAccepts(server.port, 30_000)).destroy();
        moments.push([`${server.name}: first accept`, wallNow() - spawnedAt, null]);
      });
      await herd.waitForLine(HERD_UP_LINE);
      moments.push(['servers up line', wallNow() - spawnedAt, null]);
      await Promise.all(accepts);
    } finally {
      await herd.stop();
    }
    const portName = new Map(servers.map((server) => [String(server.port), server.name]));
    const notes = readFileSync(notesFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [at, cpu, pid, event, detail] = line.split(' ');
        return { at: Number(at) - spawnedAt, cpu: Number(cpu), pid: pid ?? '', event: event ?? '', detail };
      });
    // A server's pid is the one the supervisor's fork of it returned.
    const nameOf = new Map<string, string>([[String(herd.pid), 'supervisor']]);
    notes.forEach((note, i) => {
      const forked = notes.slice(i + 1).find((later) => later.pid === note.pid && later.event === 'forked');
      if (note.event === 'fork' && forked?.detail !== undefined) nameOf.set(forked.detail, note.detail ?? '?');
    });
    for (const note of notes) {
      const who = nameOf.get(note.pid) ?? `pid ${note.pid}`;
      if (note.event === 'listening' && !portName.has(note.detail ?? '')) continue;
      const what =
        note.event === 'listening'
          ? 'client port listening'
          : note.event === 'fork' || note.event === 'forked'
            ? `${note.event} ${nameOf.get(note.detail ?? '') ?? note.detail}`
            : note.event;
      moments.push([`${who}: ${what}`, note.at, note.cpu]);
    }
    return moments.sort((a, b) => a[1] - b[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A server's moments under one name, so that the medians pool the five servers. */
const pooled = (label: string): string =>
  label.startsWith('supervisor') || label === 'servers up line' ? label : `a server${label.slice(label.indexOf(':'))}`;

/** `  1234 ms  (CPU   56 ms)  label`. */
const line = (label: string, ms: number, cpu: number | null): string =>
  `  ${Math.round(ms).toString().padStart(5)} ms  ${cpu === null ? '              ' : `(CPU ${Math.round(cpu).toString().padStart(4)} ms)`}  ${label}\n`;

const runs = Number(process.argv[2] ?? 5);
const clis = (process.argv.length > 3 ? process.argv.slice(3) : [CLI]).map((cli) => path.resolve(cli));
const results = new Map<string, Timeline[]>(clis.map((cli) => [cli, []]));
for (let i = 0; i < runs; i++) {
  for (const cli of clis) {
    const timeline = await startOnce(cli);
    results.get(cli)?.push(timeline);
    process.stdout.write(`${cli} run ${i + 1}:\n`);
    for (const [label, ms, cpu] of timeline) process.stdout.write(line(label, ms, cpu));
  }
}
for (const [cli, timelines] of results) {
  process.stdout.write(`${cli}: median of ${timelines.length} runs (a server: of all five; latest: of every run)\n`);
  const byLabel = new Map<string, [number, number | null][]>();
  for (const timeline of timelines)
    for (const [label, ms, cpu] of timeline)
      byLabel.set(pooled(label), [...(byLabel.get(pooled(label)) ?? []), [ms, cpu]]);
  const rows = [...byLabel].map(([label, list]) => {
    const cpus = list.map(([, cpu]) => cpu).filter((cpu) => cpu !== null);
    const latest = Math.max(...list.map(([ms]) => ms));
    const suffix = label.startsWith('a server') ? ` (latest ${Math.round(latest)} ms)` : '';
    return [`${label}${suffix}`, median(list.map(([ms]) => ms)), cpus.length === 0 ? null : median(cpus)] as const;
  });
  for (const [label, ms, cpu] of rows.sort((a, b) => a[1] - b[1])) process.stdout.write(line(label, ms, cpu));
}
