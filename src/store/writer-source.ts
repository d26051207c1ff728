/**
 * The writer thread's code when the server runs from its TypeScript sources (the tests and tools
 * under tsx, never the built package): ./sqlite-writer.ts bundled once per process with esbuild, as
 * build/bundle.ts bundles it for dist/, and run by each thread as a script. A thread that registered
 * tsx itself instead took seconds of CPU to start (tsx's loader thread and esbuild, in every thread).
 */
import { createRequire } from 'node:module';
import type * as Esbuild from 'esbuild';

/** The bundled writer of `writerFile` (a .ts path), as a script for `new Worker(..., { eval: true })`. */
let bundled: { file: string; script: string } | undefined;

/**
 * The script that runs the writer at `writerFile` (src/store/sqlite-writer.ts) in a Worker started with
 * `eval: true`. Built at the first call; later calls return the same text.
 *
 * @throws whatever esbuild throws for source that does not compile.
 */
export function writerScriptFromSource(writerFile: string): string {
  if (bundled?.file === writerFile) return bundled.script;
  const require = createRequire(import.meta.url);
  // A development dependency: only ever loaded when running from the sources.
  const esbuild = require('esbuild') as typeof Esbuild;
  const result = esbuild.buildSync({
    entryPoints: [writerFile],
    bundle: true,
    format: 'iife',
    platform: 'node',
    target: 'node20',
    // The SQLite driver loads its native addon by its own path: required at run time, from the writer's folder.
    external: ['better-sqlite3'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  const script = `(function (require) {\n${code}\n})(require('node:module').createRequire(${JSON.stringify(writerFile)}));\n`;
  bundled = { file: writerFile, script };
  return script;
}
