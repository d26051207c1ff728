/**
 * Stack traces that name the source files (`src/cli/serve.ts:123:5`) when the command line runs from
 * its bundle (build/bundle.ts): each frame in a bundled file is looked up in that file's source map,
 * read the first time a stack is formatted. Node's own `--enable-source-maps` reads and parses
 * every map of every module as it loads, about 30 ms of a server's start-up; this costs nothing
 * until an error's stack is read (a crash, a logged error). A parsed map is large (in a heap
 * snapshot of a server, one of 46,000 mappings held 5.5 MB, kept for good), so the maps read are
 * dropped {@link SOURCE_MAP_KEEP_MS} after the first of them: a burst of errors (a link cut) reads
 * each map once, and the memory comes back (docs/operations.md "Memory").
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';

/** How long parsed source maps are kept once the first of them was read, ms. */
export const SOURCE_MAP_KEEP_MS = 10_000;

/**
 * Maps the frames of every stack trace formatted from now on whose file is in `dir` through its
 * `<file>.map` (when there is one and it has the position); other frames, and every frame when
 * Node's own source maps are on, are left as they are.
 *
 * @param dir - the folder of the bundled files.
 * @param timers - drop the maps read {@link SOURCE_MAP_KEEP_MS} later on these. @default SYSTEM_TIMERS
 *   (the timer does not keep the process alive)
 */
export function mapStackTraces(dir: string, timers: Timers = SYSTEM_TIMERS): void {
  if ((process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled === true) return;
  const prefix = path.resolve(dir) + path.sep;
  const maps = new Map<string, SourceMap | undefined>();
  let dropTimer: TimerHandle | undefined;
  const mapOf = (file: string): SourceMap | undefined => {
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
  };
  const original = (frame: NodeJS.CallSite): string => {
    // V8's own text of the frame (`fn (file:line:column)`, `async fn ...`, `new C ...`).
    const text = (frame as { toString(): string }).toString();
    // A file URL for an ES module, a path for a script.
    const name = frame.getFileName();
    const line = frame.getLineNumber();
    const column = frame.getColumnNumber();
    if (name === undefined || name === null || line === null || column === null) return text;
    const file = name.startsWith('file:') ? fileURLToPath(name) : name;
    if (!file.startsWith(prefix)) return text;
    // An empty object when the map has no such position.
    const entry = mapOf(file)?.findEntry(line - 1, column - 1);
    if (entry === undefined || !('originalSource' in entry)) return text;
    const source = entry.originalSource.startsWith('file:')
      ? fileURLToPath(entry.originalSource)
      : path.resolve(path.dirname(file), entry.originalSource);
    const location = `${path.relative(process.cwd(), source)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    return text.replace(`${name}:${line}:${column}`, location);
  };
  Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]): string => {
    let header: string;
    try {
      header = Error.prototype.toString.call(error);
    } catch {
      header = 'Error';
    }
    return [header, ...frames.map((frame) => `    at ${original(frame)}`)].join('\n');
  };
}
