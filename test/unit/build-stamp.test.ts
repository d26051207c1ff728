/**
 * The build's stamp (build/build-stamp.mjs): `npm test` skips `npm run build` only when dist/ was
 * built from the same contents of every input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INPUT_DIRS, INPUT_FILES, inputsDigest } from '../../build/build-stamp.mjs';

test('the digest follows the contents of every input, not their times, and nothing else', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-build-stamp-'));
  try {
    for (const dir of INPUT_DIRS) fs.mkdirSync(path.join(root, dir, 'sub'), { recursive: true });
    for (const file of INPUT_FILES) fs.writeFileSync(path.join(root, file), `${file}\n`);
    fs.writeFileSync(path.join(root, 'src', 'sub', 'a.ts'), 'export const a = 1;\n');
    const first = inputsDigest(root);
    assert.match(first, /^[0-9a-f]{64}$/);

    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(root, 'src', 'sub', 'a.ts'), later, later);
    fs.mkdirSync(path.join(root, 'dist'));
    fs.writeFileSync(path.join(root, 'dist', 'out.js'), 'built\n');
    fs.writeFileSync(path.join(root, 'notes.md'), 'not an input\n');
    assert.equal(inputsDigest(root), first, 'a new time, an output or a file outside the inputs changes nothing');

    fs.writeFileSync(path.join(root, 'src', 'sub', 'a.ts'), 'export const a = 2;\n');
    const edited = inputsDigest(root);
    assert.notEqual(edited, first, 'an edited source');

    for (const dir of INPUT_DIRS) {
      const added = path.join(root, dir, 'sub', 'new.txt');
      fs.writeFileSync(added, '');
      assert.notEqual(inputsDigest(root), edited, `a file added under ${dir}/`);
      fs.rmSync(added);
    }
    assert.equal(inputsDigest(root), edited);

    fs.writeFileSync(path.join(root, 'package-lock.json'), '{"changed": true}\n');
    assert.notEqual(inputsDigest(root), edited, 'a dependency changed');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
