/**
 * A node:test reporter (https://nodejs.org/docs/latest-v20.x/api/test.html#custom-reporters) that
 * prints, once the run is over, the ten slowest tests and the ten slowest files, so that a slow
 * suite names its culprits. `npm test` runs it beside the spec reporter:
 *
 *   node --test --test-reporter=spec --test-reporter-destination=stdout \
 *     --test-reporter=./test/helpers/slowest-reporter.mjs --test-reporter-destination=stdout ...
 *
 * Plain JavaScript because node 20 loads reporters before `--import tsx` registers TypeScript.
 * A test is a leaf (`test()`/`it()`, not a `describe()` suite); its time is its own duration. A
 * file's time is the sum of its top-level tests and suites (they run one after the other).
 */
import path from 'node:path';

/** How many of the slowest tests and files are listed. */
export const SLOWEST_LISTED = 10;

/**
 * Formats the slowest of `timed` as a table headed by `title`, slowest first.
 *
 * @param {string} title
 * @param {readonly {name: string, file: string, ms: number}[]} timed - durations in ms
 * @param {number} [count] - rows listed. @default SLOWEST_LISTED
 * @returns {string}
 */
export function slowestTable(title, timed, count = SLOWEST_LISTED) {
  const rows = [...timed].sort((a, b) => b.ms - a.ms).slice(0, count);
  const lines = rows.map((row) => {
    const seconds = (row.ms / 1000).toFixed(1).padStart(7);
    return `${seconds} s  ${row.file === row.name ? row.file : `${row.file}: ${row.name}`}`;
  });
  return `\n${title}\n${lines.join('\n')}\n`;
}

/**
 * The name of a test file as the reader knows it: relative to the working directory, and, for a file
 * compiled into `.test-build/` (build/test-build.mjs), the TypeScript source it was compiled from.
 *
 * @param {string | undefined} file - the absolute path node:test reports, if any
 * @returns {string} '?' when there is none
 */
export function sourceName(file) {
  if (file === undefined) return '?';
  const relative = path.relative(process.cwd(), file);
  const compiled = /^\.test-build[/\\](.*)\.js$/.exec(relative);
  return compiled === null ? relative : `${compiled[1]}.ts`;
}

/**
 * The reporter: collects the durations of node 20's `test:pass` / `test:fail` events and yields the
 * two tables at the end of the run.
 *
 * @param {AsyncIterable<{type: string, data?: {name?: string, nesting?: number, file?: string, details?: {duration_ms?: number, type?: string}}}>} source
 * @returns {AsyncGenerator<string>}
 */
export default async function* slowestReporter(source) {
  const tests = [];
  /** @type {Map<string, number>} file -> ms */
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, nesting, file, details } = event.data ?? {};
    const ms = details?.duration_ms;
    if (name === undefined || ms === undefined) continue;
    const relative = sourceName(file);
    if (nesting === 0) files.set(relative, (files.get(relative) ?? 0) + ms);
    if (details?.type !== 'suite') tests.push({ name, file: relative, ms });
  }
  yield slowestTable(`The ${SLOWEST_LISTED} slowest tests:`, tests);
  const byFile = [...files].map(([file, ms]) => ({ name: file, file, ms }));
  yield slowestTable(`The ${SLOWEST_LISTED} slowest files:`, byFile);
}
