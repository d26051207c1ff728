/**
 * The order in which `npm test` starts its files (build/run-tests.mjs): the slowest named files
 * first, then every other compiled test file once, in path order; a named file that is gone is an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LONGEST_FIRST, TEST_DIRS, orderedTestFiles } from '../../build/run-tests.mjs';

/** Makes a compiled tree holding `files` (relative .js paths); returns its folder. */
async function tree(files: readonly string[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-run-tests-'));
  for (const file of files) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), '');
  }
  return dir;
}

test('the slowest files start first, in their order, then every other test file once, in path order', async () => {
  const slow = LONGEST_FIRST.map((source) => source.replace(/\.ts$/, '.js'));
  const others = ['test/unit/b.test.js', 'test/unit/a.test.js', 'bench/test/c.test.js', 'test/netns/d.test.js'];
  const dir = await tree([...others, ...slow, 'test/unit/helper.js', 'test/unit/a.test.js.map']);
  try {
    const order = orderedTestFiles(dir).map((file) => path.relative(dir, file));
    assert.deepEqual(order, [
      ...slow,
      'test/netns/d.test.js',
      'bench/test/c.test.js',
      'test/unit/a.test.js',
      'test/unit/b.test.js',
    ]);
    assert.ok(TEST_DIRS.includes('test/unit'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a slowest file that does not exist is named in the error', async () => {
  const slow = LONGEST_FIRST.slice(1).map((source) => source.replace(/\.ts$/, '.js'));
  const dir = await tree(slow);
  try {
    assert.throws(
      () => orderedTestFiles(dir),
      new RegExp(`${LONGEST_FIRST[0]} \\(LONGEST_FIRST\\) is not a test file`),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
