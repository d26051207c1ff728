/**
 * Compiles the TypeScript of src/, test/, bench/ and build/ once, for `npm test`, into `.test-build/`
 * (ignored by git, ESLint and Prettier), so that the test runner loads plain JavaScript instead of
 * compiling every file again in each of its processes through tsx (about 40% of the unit tests' CPU
 * time, docs/benchmarks.md "The suite (2026-12-03)").
 *
 *   node build/test-build.mjs      # then: node --enable-source-maps --test .test-build/test/...
 *
 * Each `X.ts` becomes `.test-build/<same path>/X.js` with an inline source map, so stack traces name
 * the source file and line. Everything else is a symbolic link to the checkout: the top-level entries
 * (dist/, docs/, herds/, node_modules/, package.json, ...) and, inside the compiled folders, every
 * file including the `.ts` sources, so that a test that reads a source or a fixture, or spawns
 * `node --import tsx some.ts`, finds it by the same relative path. esbuild compiles each file alone,
 * as tsx does (https://esbuild.github.io/api/#transform, "isolated modules"): the checks that need the
 * whole program are `npm run typecheck` and ESLint. Plain JavaScript (.mjs) so that it needs no compiler.
 *
 * It then writes the unit files' groups (./test-groups.mjs): `npm test` runs the unit files a few
 * to a test process, from `.test-build/test/unit-groups/`.
 *
 * Exits 1 with one line on stderr when esbuild reports an error or a unit file cannot be grouped.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { filesUnder } from './files-under.mjs';
import { writeTestGroups } from './test-groups.mjs';

/** The checkout's root. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where the compiled tree goes (the name is in .gitignore, .prettierignore and eslint.config.js). */
export const TEST_BUILD_DIR = path.join(ROOT, '.test-build');
/** The folders whose TypeScript is compiled; every other top-level entry is linked as it is. */
const COMPILED = ['src', 'test', 'bench', 'build'];
/** Top-level entries that are never linked into the tree. */
const SKIPPED = new Set(['.git', '.test-build']);

/**
 * Links `.test-build/<relative>` to the checkout's `<relative>`.
 *
 * @param {string} relative
 */
function link(relative) {
  const target = path.join(TEST_BUILD_DIR, relative);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.symlinkSync(path.relative(path.dirname(target), path.join(ROOT, relative)), target);
}

fs.rmSync(TEST_BUILD_DIR, { recursive: true, force: true });
fs.mkdirSync(TEST_BUILD_DIR);
for (const entry of fs.readdirSync(ROOT)) {
  if (!SKIPPED.has(entry) && !COMPILED.includes(entry)) link(entry);
}
const sources = [];
for (const dir of COMPILED) {
  for (const file of filesUnder(ROOT, dir)) {
    link(file);
    if (file.endsWith('.ts') && !file.endsWith('.d.ts')) sources.push(file);
  }
}
try {
  await build({
    absWorkingDir: ROOT,
    entryPoints: sources,
    outdir: TEST_BUILD_DIR,
    outbase: '.',
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
} catch (error) {
  const first = error?.errors?.[0];
  const where = first?.location ? `${first.location.file}:${first.location.line}: ` : '';
  process.stderr.write(`test-build: ${where}${first?.text ?? String(error)}; fix the source and run again\n`);
  process.exit(1);
}
let grouped;
try {
  grouped = writeTestGroups(ROOT, TEST_BUILD_DIR);
} catch (error) {
  process.stderr.write(`test-build: ${error.message}\n`);
  process.exit(1);
}
process.stdout.write(
  `test-build: ${sources.length} TypeScript files compiled into .test-build/; ` +
    `${grouped.files} unit files in ${grouped.groups} test processes (.test-build/test/unit-groups/)\n`,
);
