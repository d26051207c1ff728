/**
 * The build step that bundles the command line (`npm run build` runs it after `tsc`): esbuild turns
 * src/cli/main.ts into one CommonJS script, `dist/bundle/herd.js`, and the durable store's writer
 * thread (src/store/sqlite-writer.ts) into another; `dist/bundle/main.js` (src/cli/launch.ts), the
 * `herd` executable, runs herd.js with V8's code cache of it, which build/code-cache.ts writes next.
 * The folder's own package.json says `"type": "commonjs"`. Node then reads and compiles one script
 * instead of resolving some 200 modules, and without its ES module loader, which cost a server's
 * start more than the code it loaded (docs/benchmarks.md "Startup"). What a command loads on demand
 * (`await import()`: each command, the dashboard, the Google sources, the importer) is still
 * evaluated only when it runs: esbuild wraps each such module in a function called at the import.
 *
 * The SQLite driver's script is bundled too, and its native addon loaded by its path (src/store/
 * sqlite-table.ts), so a start no longer resolves and compiles its dozen files. Source maps are written
 * beside each file; the command line turns them on for stack traces (src/cli/main.ts).
 *
 *     node --import tsx build/bundle.ts
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where the bundle goes: `package.json`'s `bin` points at its `main.js`. */
export const BUNDLE_DIR = path.join(ROOT, 'dist', 'bundle');

// The output sits one folder below dist/ like every source module (dist/<dir>/x.js), so paths made
// from import.meta.url (herds/, web/, the built-in place data) resolve the same from either.
await rm(BUNDLE_DIR, { recursive: true, force: true });
const started = performance.now();
/** What every output starts with: a script has no import.meta, so each module's URL is the bundle file's own. */
const MODULE_URL = "'use strict';var __herdModuleUrl=require('node:url').pathToFileURL(__filename).href;";
/**
 * `prom-client` is ./prom-client-index.cjs: its index without the Pushgateway (http, https, tls,
 * zlib) and the rest herd never uses, each loaded only if used, as measured in docs/benchmarks.md
 * "Start-up CPU before and after listening (2026-12-03, shared box)".
 */
const promClientIndex: Plugin = {
  name: 'prom-client-index',
  setup(bundle) {
    bundle.onResolve({ filter: /^prom-client$/ }, () => ({ path: path.join(ROOT, 'build', 'prom-client-index.cjs') }));
  },
};
const common: BuildOptions = {
  absWorkingDir: ROOT,
  outdir: BUNDLE_DIR,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // The SQLite driver's script is bundled (compiled with the rest, from the code cache); the package
  // that searches for its native addon is not (src/store/sqlite-table.ts names the addon's path).
  external: ['bindings'],
  sourcemap: 'linked',
  // Stack traces need positions, not the sources' text (2 MB of the 2.8 MB map): the sources are in the package.
  sourcesContent: false,
  // Whitespace and syntax only: names stay, so a stack trace reads without the map too.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  define: { 'import.meta.url': '__herdModuleUrl' },
  metafile: true,
  logLevel: 'warning',
  plugins: [promClientIndex],
};
// The `herd` executable gets its `#!/usr/bin/env node` here rather than from src/cli/launch.ts: ESLint
// hands a file's first line `#!...` to its parser as `//...`, so typescript-eslint (8.74) cannot take
// that file from the Program it built once and builds a second Program for it (about 7 s of CPU).
const results = await Promise.all([
  build({
    ...common,
    entryPoints: { main: 'src/cli/launch.ts' },
    banner: { js: `#!/usr/bin/env node\n${MODULE_URL}` },
  }),
  build({
    ...common,
    entryPoints: { herd: 'src/cli/main.ts', 'sqlite-writer': 'src/store/sqlite-writer.ts' },
    banner: { js: MODULE_URL },
  }),
]);
// Node reads .js files below this folder as CommonJS, whatever the package's own "type".
await writeFile(path.join(BUNDLE_DIR, 'package.json'), '{ "type": "commonjs" }\n');
// The `bin` of package.json: runnable as it is (its first line is the banner's `#!/usr/bin/env node`).
await chmod(path.join(BUNDLE_DIR, 'main.js'), 0o755);
const files = results
  .flatMap((result) => Object.entries(result.metafile?.outputs ?? {}))
  .filter(([file]) => file.endsWith('.js'));
const bytes = files.reduce((sum, [, output]) => sum + output.bytes, 0);
process.stdout.write(
  `bundled ${path.relative(ROOT, BUNDLE_DIR)}: ${files.length} files, ${(bytes / 1024).toFixed(0)} KB, in ${Math.round(performance.now() - started)} ms\n`,
);
