/**
 * The reporter that lists the slowest tests and files at the end of `npm test`
 * (test/helpers/slowest-reporter.mjs): it names the TypeScript source of a compiled test file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { slowestTable, sourceName } from '../helpers/slowest-reporter.mjs';

test('a file compiled into .test-build/ is named by its source; any other by its own path', () => {
  const cwd = process.cwd();
  assert.equal(sourceName(path.join(cwd, '.test-build', 'test', 'unit', 'a.test.js')), 'test/unit/a.test.ts');
  assert.equal(sourceName(path.join(cwd, 'test', 'unit', 'b.test.ts')), 'test/unit/b.test.ts');
  assert.equal(sourceName(undefined), '?');
});

test('the table lists the slowest first, at most the count given', () => {
  const timed = [
    { name: 'quick', file: 'f.ts', ms: 100 },
    { name: 'slow', file: 'f.ts', ms: 2500 },
    { name: 'g.ts', file: 'g.ts', ms: 1200 },
  ];
  const lines = slowestTable('Slowest:', timed, 2).trim().split('\n');
  assert.equal(lines[0], 'Slowest:');
  assert.match(lines[1] ?? '', /^\s+2\.5 s {2}f\.ts: slow$/);
  assert.match(lines[2] ?? '', /^\s+1\.2 s {2}g\.ts$/);
  assert.equal(lines.filter((line) => line.includes(' s  ')).length, 2);
});
