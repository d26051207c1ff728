/**
 * Where a server's start-up goes: runs `herd serve` (a fresh one-server config, the default place
 * data, an admin port) under `node --cpu-prof` several times, stops each 1.5 s after its spawn, and
 * sums the samples of the first 1.5 s by what they were doing: loading modules (resolving, reading,
 * compiling; Node's own built-ins apart), evaluating them (by package), the server's own start
 * (config, log, store, place data, listening), garbage collection, and idle. docs/benchmarks.md
 * "Startup" keeps its output, before and after.
 *
 *     node --import tsx bench/startup-profile.ts [RUNS]          # this checkout's build
 *     HERD_BENCH_CLI=/tmp/before/dist/bundle/main.js node --import tsx bench/startup-profile.ts
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { SourceMap, type SourceMapPayload } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchProcess, CLI, restartablePort, sleep } from './bench-processes.js';

/** The window summed, from the first sample, ms. */
const WINDOW_MS = 1500;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const maps = new Map<string, SourceMap | undefined>();

/**
 * The file a frame's code comes from: through the source map of a bundled file (build/bundle.ts),
 * so that a bundled package is named as such; else the frame's own URL.
 */
function sourceOf(frame: ProfileNode['callFrame']): string {
  if (!frame.url.includes('/dist/bundle/')) return frame.url;
  // A file URL for an ES module, a path for the CommonJS bundle run through its code cache.
  const file = frame.url.startsWith('file:') ? fileURLToPath(frame.url) : frame.url;
  if (!maps.has(file)) {
    try {
      maps.set(file, new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload));
    } catch {
      maps.set(file, undefined);
    }
  }
  const entry = maps.get(file)?.findEntry(frame.lineNumber, frame.columnNumber);
  return entry !== undefined && 'originalSource' in entry ? entry.originalSource : frame.url;
}

/** What a sample was doing, from its stack (innermost frame first). */
function category(stack: readonly ProfileNode['callFrame'][]): string {
  const leaf = stack[0];
  if (leaf === undefined) return 'other';
  if (leaf.functionName === '(garbage collector)') return 'garbage collection';
  if (leaf.functionName === '(idle)') return 'idle (waiting for I/O)';
  const labels = stack.map((frame) => `${frame.functionName} ${sourceOf(frame)}`);
  // The innermost package or herd module on the stack owns the sample, unless the loader is below it.
  for (const label of labels) {
    if (/compileForInternalLoader|compileForPublicLoader/.test(label)) return 'loading: Node built-ins';
    if (
      /esm\/(loader|resolve|translators|utils|load|module_job|get_format|package_config)|cjs\/loader|wrapSafe|node:vm|cli\/code-cache/.test(
        label,
      )
    )
      return 'loading: resolve, read, compile';
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(label);
    if (pkg !== null) return `evaluating: ${pkg[1] as string}`;
    if (/\/(dist|src)\//.test(label)) return 'herd: config, log, store, places, listening';
  }
  return 'other (Node internals)';
}

/** Milliseconds by category over the first {@link WINDOW_MS} of one profile. */
function summarize(profile: Profile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const out = new Map<string, number>();
  let elapsed = 0;
  for (let i = 0; i < profile.samples.length && elapsed < WINDOW_MS * 1000; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    elapsed += delta;
    const stack: ProfileNode['callFrame'][] = [];
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (node !== undefined) stack.push(node.callFrame);
    }
    const name = category(stack);
    out.set(name, (out.get(name) ?? 0) + delta / 1000);
  }
  return out;
}

const runs = Number(process.argv[2] ?? 5);
const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-startup-profile-'));
try {
  const totals = new Map<string, number[]>();
  for (let run = 0; run < runs; run++) {
    const profiles = path.join(dir, `profiles-${run}`);
    const configFile = path.join(dir, 'herd.json');
    await rm(path.join(dir, 'data'), { recursive: true, force: true });
    await writeFile(
      configFile,
      JSON.stringify({
        servers: [
          {
            name: 'Alford',
            host: '127.0.0.1',
            port: await restartablePort(),
            peerPort: await restartablePort(),
            adminPort: 0,
          },
        ],
        logDir: path.join(dir, 'logs'),
        dataDir: path.join(dir, 'data'),
      }),
    );
    const child = new BenchProcess(process.execPath, [
      '--cpu-prof',
      '--cpu-prof-dir',
      profiles,
      CLI,
      'serve',
      'Alford',
      '--config',
      configFile,
    ]);
    // The window, and at least until the server listens (a busy machine can take longer than it).
    await Promise.all([sleep(WINDOW_MS + 500), child.waitForLine(/ listening on /)]);
    await child.stop();
    // The main thread's profile is the first one written (the writer thread's comes after it).
    const [first] = (await readdir(profiles)).sort();
    if (first === undefined) throw new Error('no profile written');
    const summary = summarize(JSON.parse(await readFile(path.join(profiles, first), 'utf8')) as Profile);
    for (const [name, ms] of summary) totals.set(name, [...(totals.get(name) ?? []), ms]);
  }
  const median = (values: number[]): number => {
    const sorted = [...values, ...Array<number>(runs - values.length).fill(0)].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] as number;
  };
  const rows = [...totals].map(([name, values]) => [name, median(values)] as const).sort((a, b) => b[1] - a[1]);
  const busy = rows.filter(([name]) => !name.startsWith('idle')).reduce((sum, [, ms]) => sum + ms, 0);
  process.stdout.write(
    `${CLI}: first ${WINDOW_MS} ms of herd serve, median of ${runs} runs, ms (share of busy time)\n`,
  );
  for (const [name, ms] of rows) {
    const share = name.startsWith('idle') ? '' : ` (${((ms / busy) * 100).toFixed(0)}%)`;
    process.stdout.write(`${ms.toFixed(0).padStart(6)}  ${name}${share}\n`);
  }
  process.stdout.write(`${busy.toFixed(0).padStart(6)}  busy in all\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
