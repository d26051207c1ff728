/**
 * Stack traces that name the source files (`src/cli/serve.ts:123:5`) when the command line runs from
 * its bundle (build/bundle.ts): {@link sourceStack} looks each frame of a bundled file up in that
 * file's source map. Node's own `--enable-source-maps` reads and parses every map of every module as
 * it loads, about 30 ms of a server's start-up.
 *
 * Maps are read only where a stack is shown (a crash, a bug's report), never when a stack is merely
 * formatted: Node reads the stack of every failed socket write (`er.stack` in its writable.js
 * `onwrite`), so a hook on `Error.prepareStackTrace` read and parsed the 0.7 MB map on the event loop
 * at every link cut, 180-700 ms during which the server answered nothing (docs/operations.md "A
 * frozen neighbour"). `error.stack` itself therefore keeps the bundle's positions; function names
 * stay (the bundle is not renamed), so it reads without the map too.
 *
 * A parsed map is large (in a heap snapshot of a server, one of 46,000 mappings held 5.5 MB), so the
 * maps read are dropped {@link SOURCE_MAP_KEEP_MS} after the first of them: a burst of reports reads
 * each map once, and the memory comes back (docs/operations.md "Memory").
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';

/** How long parsed source maps are kept once the first of them was read, ms. */
export const SOURCE_MAP_KEEP_MS = 10_000;

/** A frame of V8's stack text: `    at [name (]<file>:<line>:<column>[)]`. */
const FRAME = /^(\s+at (?:.* \()?)(.+):(\d+):(\d+)(\)?)$/;

/** The bundle folder set by {@link mapStackTraces}, and the maps read from it so far. */
let bundle: { prefix: string; timers: Timers } | undefined;
const maps = new Map<string, SourceMap | undefined>();
let dropTimer: TimerHandle | undefined;

/**
 * From now on, {@link sourceStack} maps the frames whose file is in `dir` through its `<file>.map`
 * (when there is one and it has the position). Nothing is read here. When Node's own source maps are
 * on, it does nothing: Node has mapped the stacks already.
 *
 * @param dir - the folder of the bundled files.
 * @param timers - drop the maps read {@link SOURCE_MAP_KEEP_MS} later on these. @default SYSTEM_TIMERS
 *   (the timer does not keep the process alive)
 */
export function mapStackTraces(dir: string, timers: Timers = SYSTEM_TIMERS): void {
  if ((process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled === true) return;
  bundle = { prefix: path.resolve(dir) + path.sep, timers };
}

/**
 * The stack of `error` to show: `error.stack` with every frame of a bundled file (see
 * {@link mapStackTraces}) replaced by its source file, line and column, relative to the working
 * directory; other frames as they are. Reads and parses the maps it needs (synchronously: call it
 * only to report, never on a path that serves). Anything thrown that is not an Error with a stack is
 * its `String()`.
 */
export function sourceStack(error: unknown): string {
  const stack = (error as { stack?: unknown } | null | undefined)?.stack;
  if (typeof stack !== 'string') return String(error);
  const dir = bundle;
  if (dir === undefined) return stack;
  return stack
    .split('\n')
    .map((line) => sourceFrame(line, dir))
    .join('\n');
}

/** One line of a stack: a frame in the bundle mapped to its source, any other line as it is. */
function sourceFrame(line: string, dir: { prefix: string; timers: Timers }): string {
  const match = FRAME.exec(line);
  if (match === null) return line;
  const [, head, name, lineText, columnText, tail] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // A file URL for an ES module, a path for a script.
  const file = name.startsWith('file:') ? fileURLToPath(name) : name;
  if (!file.startsWith(dir.prefix)) return line;
  // An empty object when the map has no such position.
  const entry = mapOf(file, dir.timers)?.findEntry(Number(lineText) - 1, Number(columnText) - 1);
  if (entry === undefined || !('originalSource' in entry)) return line;
  const source = entry.originalSource.startsWith('file:')
    ? fileURLToPath(entry.originalSource)
    : path.resolve(path.dirname(file), entry.originalSource);
  return `${head}${path.relative(process.cwd(), source)}:${entry.originalLine + 1}:${entry.originalColumn + 1}${tail}`;
}

/** The parsed map of `file`, read on first use; undefined when it has none or it cannot be read. */
function mapOf(file: string, timers: Timers): SourceMap | undefined {
  if (dropTimer === undefined) {
    dropTimer = timers.setTimeout(() => {
      dropTimer = undefined;
      maps.clear();
    }, SOURCE_MAP_KEEP_MS);
    (dropTimer as { unref?: () => void }).unref?.();
  }
  if (!maps.has(file)) {
    try {
      maps.set(file, new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload));
    } catch {
      maps.set(file, undefined);
    }
  }
  return maps.get(file);
}
