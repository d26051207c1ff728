/**
 * The build step that bundles the command line (`npm run build` runs it after `tsc`): esbuild turns
 * src/cli/main.ts and the durable store's writer thread (src/store/sqlite-writer.ts) into a few
 * files in `dist/bundle/`, one chunk per part that is loaded on demand (`await import()`: each
 * command, the dashboard, the Google sources, the importer). Node then reads a handful of files at
 * start instead of resolving and compiling some 200 modules one by one, which was most of a server's
 * start-up (docs/benchmarks.md "Startup").
 *
 * The SQLite driver stays outside (it loads a native addon by its own path). Source maps are written
 * beside each file; the command line turns them on for stack traces (src/cli/main.ts).
 *
 *     node --import tsx build/bundle.ts
 */
import { build } from 'esbuild';
import { chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where the bundle goes: `package.json`'s `bin` points at its `main.js`. */
export const BUNDLE_DIR = path.join(ROOT, 'dist', 'bundle');

// The output sits one folder below dist/ like every source module (dist/<dir>/x.js), so paths made
// from import.meta.url (herds/, web/, the built-in place data) resolve the same from either.
await rm(BUNDLE_DIR, { recursive: true, force: true });
const started = performance.now();
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'src/cli/main.ts', 'sqlite-writer': 'src/store/sqlite-writer.ts' },
  outdir: BUNDLE_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3'],
  sourcemap: 'linked',
  // Whitespace and syntax only: names stay, so a stack trace reads without the map too.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  chunkNames: 'chunk-[hash]',
  // CommonJS packages bundled into ES modules still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __herdRequire } from 'node:module'; const require = __herdRequire(import.meta.url);",
  },
  metafile: true,
  logLevel: 'warning',
});
// The `bin` of package.json: runnable as it is (its first line is main.ts's `#!/usr/bin/env node`).
await chmod(path.join(BUNDLE_DIR, 'main.js'), 0o755);
const files = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const bytes = files.reduce((sum, [, output]) => sum + output.bytes, 0);
process.stdout.write(
  `bundled ${path.relative(ROOT, BUNDLE_DIR)}: ${files.length} files, ${(bytes / 1024).toFixed(0)} KB, in ${Math.round(performance.now() - started)} ms\n`,
);
