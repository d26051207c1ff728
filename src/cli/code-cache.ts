/**
 * Running a CommonJS script with V8's code cache of it: the bytecode of its functions, saved by an
 * earlier run, so that a start does not compile them again. The `herd` executable
 * (dist/bundle/main.js, ./launch.ts) runs the bundled command line (dist/bundle/herd.js) this way;
 * `npm run build` writes the cache (build/code-cache.ts) from a `herd serve` start, so the functions
 * a server runs before it listens come compiled (docs/benchmarks.md "Startup"). V8 checks that a
 * cache was made from the same source by the same V8 with the same flags; one that was not (another
 * Node, a rebuilt bundle without a new cache) is rejected and the script is compiled as usual. Not
 * every flag counts: Node 20's V8 rejects the cache under `--max-old-space-size`,
 * `--max-semi-space-size` or `--no-opt`, and accepts it under the garbage collector's threading
 * flags (`--single-threaded-gc`, `--no-parallel-scavenge`, `--no-concurrent-marking`; measured,
 * docs/benchmarks.md "Cost per operation: V8's garbage collector flags, the stale flood
 * (2026-12-03)").
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';

/**
 * Set to a file path, the run writes the code cache of every function compiled by its exit there
 * (build/code-cache.ts sets it; nothing else should).
 */
export const WRITE_CODE_CACHE_ENV = 'HERD_WRITE_CODE_CACHE';

/** Whether the cache was used: `none` when there was no cache file. */
export type CodeCacheUse = 'accepted' | 'rejected' | 'none';

/**
 * Runs `file` (a CommonJS script: its own `require`, `module`, `__filename`, `__dirname`) with the
 * code cache in `cacheFile` if there is one. The script runs before this returns; what it starts
 * (an async main) goes on after.
 *
 * @param writeCacheTo - write the code cache to this file when the process exits. @default
 *   `process.env[WRITE_CODE_CACHE_ENV]` (unset: never)
 * @throws what reading `file` or running it throws (a cache file that cannot be read is no cache).
 */
export function runWithCodeCache(
  file: string,
  cacheFile: string,
  writeCacheTo: string | undefined = process.env[WRITE_CODE_CACHE_ENV],
): CodeCacheUse {
  const source = readFileSync(file, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The wrapper stays on the first line, so line numbers (and the source map) are the file's own.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const use: CodeCacheUse =
    cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
  if (writeCacheTo !== undefined && writeCacheTo !== '')
    process.once('exit', () => writeFileSync(writeCacheTo, script.createCachedData()));
  const module = { exports: {} };
  const run = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void;
  run(module.exports, createRequire(file), module, file, path.dirname(file));
  return use;
}
