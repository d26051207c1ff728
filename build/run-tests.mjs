/**
 * Runs the compiled test files of `npm test` (build/test-build.mjs puts them in `.test-build/`) as
 * `node --test --test-concurrency=3` runs them, with the same reporters (spec, then the ten slowest
 * tests and files, test/helpers/slowest-reporter.mjs), but the longest files first: `node --test`
 * sorts its files by name, which started the longest file (integration/restart-flood) two thirds of
 * the way through and left it running alone at the end. Started first, the long files overlap each
 * other and the short unit files fill the gaps (longest-processing-time scheduling;
 * docs/benchmarks.md "The suite, longest files first (2026-12-03)").
 *
 *   node --enable-source-maps build/run-tests.mjs   # after: node build/test-build.mjs
 *
 * Node options such as `--enable-source-maps` reach each file's process (node:test passes on
 * `process.execArgv`). Exits 1 when a test or a file failed, as `node --test` does.
 * Plain JavaScript (.mjs) so that it needs no compiler.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';
import slowestReporter from '../test/helpers/slowest-reporter.mjs';

/** The checkout's root. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The folders (inside `.test-build/`) whose `*.test.js` files are the suite. */
export const TEST_DIRS = ['test/netns', 'test/integration', 'bench/test', 'test/unit'];
/** How many files run at a time (processes; the box it is tuned for has 2 cores). */
export const CONCURRENCY = 3;
/**
 * The files that take longest, longest first, by their source name: started in this order, before
 * all the others. Seconds are one file's wall time in a whole `npm test` on 2 cores (the slowest
 * reporter's table, 2026-12-03); only the order matters, and a file missing here runs after these.
 */
export const LONGEST_FILES = [
  ['test/integration/restart-flood.test.ts', 39],
  ['test/netns/flapping-link.test.ts', 39],
  ['test/netns/silent-partition.test.ts', 25],
  ['test/integration/process-limits.test.ts', 24],
  ['test/integration/convergence-faults.test.ts', 24],
  ['test/integration/stop-two.test.ts', 23],
  ['test/integration/cli-mistakes.test.ts', 20],
  ['test/integration/dashboard-browser.test.ts', 18],
  ['test/netns/kill-restart.test.ts', 17],
  ['test/netns/split-herd.test.ts', 15],
  ['test/netns/frozen-neighbour.test.ts', 15],
  ['test/integration/store-faults.test.ts', 14],
];

/**
 * The suite's files in the order they start: {@link LONGEST_FILES} first, then the others folder by
 * folder ({@link TEST_DIRS}), by name within a folder.
 *
 * @param {string} buildDir - the compiled tree
 * @returns {string[]} absolute paths of `*.test.js` files
 */
export function orderedFiles(buildDir) {
  const files = TEST_DIRS.flatMap((dir) => {
    const absolute = path.join(buildDir, dir);
    if (!fs.existsSync(absolute)) return [];
    const names = fs.readdirSync(absolute).filter((name) => name.endsWith('.test.js'));
    return names.sort().map((name) => `${dir}/${name}`);
  });
  const rank = new Map(LONGEST_FILES.map(([source], index) => [source.replace(/\.ts$/, '.js'), index]));
  const startsAt = (file) => rank.get(file) ?? LONGEST_FILES.length;
  // Array.prototype.sort is stable: the files not listed keep their folder and name order.
  return files.sort((a, b) => startsAt(a) - startsAt(b)).map((file) => path.join(buildDir, file));
}

/** Collects a reporter's whole output, to print once the spec reporter is done. */
async function collect(lines) {
  let text = '';
  for await (const line of lines) text += line;
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const stream = run({ files: orderedFiles(path.join(ROOT, '.test-build')), concurrency: CONCURRENCY });
  stream.on('test:fail', (data) => {
    if (!data.todo) process.exitCode = 1;
  });
  const slowest = collect(stream.compose(slowestReporter));
  const specDone = new Promise((resolve, reject) =>
    stream.compose(spec).on('end', resolve).on('error', reject).pipe(process.stdout, { end: false }),
  );
  await specDone;
  process.stdout.write(await slowest);
}
