/**
 * The order in which `npm test` starts its files (build/run-tests.mjs): the longest first, then every
 * other file, each once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LONGEST_FILES, TEST_DIRS, orderedFiles } from '../../build/run-tests.mjs';
import { tempFolder } from '../helpers/temp-folder.js';

/** Creates empty files at `relatives` under `root`. */
async function touch(root: string, relatives: readonly string[]): Promise<void> {
  for (const relative of relatives) {
    await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
    await writeFile(path.join(root, relative), '');
  }
}

describe('orderedFiles', () => {
  const temp = tempFolder('herd-run-tests-');

  test('the listed longest files start first, longest first; the others follow by folder and name', async () => {
    const longest = LONGEST_FILES.map(([source]) => source.replace(/\.ts$/, '.js'));
    const others = ['test/unit/b.test.js', 'test/unit/a.test.js', 'test/integration/z.test.js', 'bench/test/m.test.js'];
    await touch(temp.dir, [...others, ...[...longest].reverse(), 'test/unit/helper.js', 'test/other/x.test.js']);
    const ordered = orderedFiles(temp.dir).map((file) => path.relative(temp.dir, file));
    assert.deepEqual(ordered, [
      ...longest,
      'test/integration/z.test.js',
      'bench/test/m.test.js',
      'test/unit/a.test.js',
      'test/unit/b.test.js',
    ]);
  });

  test('every listed longest file is a file of the suite (paths relative to the checkout, the working directory)', () => {
    for (const [source, seconds] of LONGEST_FILES) {
      assert.ok(existsSync(source), source);
      assert.ok(TEST_DIRS.includes(path.posix.dirname(source)), source);
      assert.ok(seconds > 0, source);
    }
    const weights = LONGEST_FILES.map(([, seconds]) => seconds);
    assert.deepEqual(
      weights,
      [...weights].sort((a, b) => b - a),
    );
  });

  test('a folder that is missing holds no files', () => {
    assert.deepEqual(orderedFiles(path.join(temp.dir, 'nowhere')), []);
  });
});
