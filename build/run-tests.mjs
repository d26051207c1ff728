/**
 * Runs the compiled tests of `npm test` (`.test-build/`, from ./test-build.mjs) through node:test's
 * `run()`, the longest files first, so that the short ones fill the cores at the end instead of the
 * long ones starting last (docs/benchmarks.md "The suite (2026-12-03)"). `node --test FILES...`
 * sorts its files by path, so the netns scenarios (about a minute each on a loaded box) started
 * last, after every integration test.
 *
 *   node --enable-source-maps build/run-tests.mjs [--concurrency N]
 *
 * Files: {@link LONGEST_FIRST}, in that order, then every other `*.test.js` under
 * `.test-build/{test/netns,test/integration,bench/test,test/unit}`, in path order. Reporters: spec
 * and ../test/helpers/slowest-reporter.mjs, both on stdout, as `node --test` with two
 * `--test-reporter`s. The test processes inherit this process's Node flags (`--enable-source-maps`).
 * Exits 1 when a test fails or a file fails to run, and when a file named in
 * {@link LONGEST_FIRST} does not exist (so that the list follows renames). Plain JavaScript (.mjs)
 * so that it needs no compiler.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import slowestReporter from '../test/helpers/slowest-reporter.mjs';
import { TEST_BUILD_DIR } from './test-build-dir.mjs';

/** Test files run at once unless `--concurrency` says otherwise (2 cores; see the doc above). */
export const DEFAULT_CONCURRENCY = 3;

/** The folders whose `*.test.js` are run, relative to `.test-build/`. */
export const TEST_DIRS = ['test/netns', 'test/integration', 'bench/test', 'test/unit'];

/**
 * The slowest files (the slowest-files table at the end of `npm test`), slowest first, as their
 * TypeScript sources. They start before every other file.
 */
export const LONGEST_FIRST = [
  'test/integration/restart-flood.test.ts',
  'test/netns/flapping-link.test.ts',
  'test/integration/convergence-faults.test.ts',
  'test/netns/silent-partition.test.ts',
  'test/netns/split-herd.test.ts',
  'test/integration/cli-mistakes.test.ts',
  'test/integration/process-limits.test.ts',
  'test/integration/stop-two.test.ts',
  'test/netns/frozen-neighbour.test.ts',
  'test/integration/bench.test.ts',
  'test/integration/dashboard-browser.test.ts',
  'test/netns/kill-restart.test.ts',
  'test/integration/store-faults.test.ts',
  'test/integration/power-cut.test.ts',
];

/**
 * The compiled test files in the order they start.
 *
 * @param {string} buildDir - the compiled tree. @default TEST_BUILD_DIR
 * @returns {string[]} absolute paths
 * @throws when a file of {@link LONGEST_FIRST} has no compiled twin
 */
export function orderedTestFiles(buildDir = TEST_BUILD_DIR) {
  const all = TEST_DIRS.flatMap((dir) => {
    const full = path.join(buildDir, dir);
    if (!fs.existsSync(full)) return [];
    return fs
      .readdirSync(full)
      .filter((name) => name.endsWith('.test.js'))
      .sort()
      .map((name) => path.join(full, name));
  });
  const first = LONGEST_FIRST.map((source) => {
    const compiled = path.join(buildDir, source.replace(/\.ts$/, '.js'));
    if (!all.includes(compiled)) throw new Error(`run-tests: ${source} (LONGEST_FIRST) is not a test file`);
    return compiled;
  });
  return [...first, ...all.filter((file) => !first.includes(file))];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { concurrency: { type: 'string' } } });
  const concurrency = Number(values.concurrency ?? DEFAULT_CONCURRENCY);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write(`run-tests: --concurrency takes a whole number from 1 up, not ${values.concurrency}\n`);
    process.exit(1);
  }
  let files;
  try {
    files = orderedTestFiles();
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const stream = run({ files, concurrency });
  stream.on('test:fail', (data) => {
    if (data.todo === undefined || data.todo === false) process.exitCode = 1;
  });
  stream.compose(new spec()).pipe(process.stdout);
  stream.compose(slowestReporter).pipe(process.stdout);
}
