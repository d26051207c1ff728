/**
 * The unit files' groups (build/test-groups.mjs): every unit file in exactly one group, the files
 * that need a process of their own alone, and a file with a top-level hook refused by name.
 */
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GROUP_COUNT, GROUPS_DIR, OWN_PROCESS, groupModule, writeTestGroups } from '../../build/test-groups.mjs';

/** A scratch checkout with the given unit files (path -> source), and an output folder. */
function scratch(files: Record<string, string>): { root: string; out: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-test-groups-'));
  for (const [file, source] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), source);
  }
  return { root, out: path.join(root, 'out') };
}

test('every unit file is imported by exactly one group; prom-client-index by a group of its own', () => {
  const files: Record<string, string> = { 'test/unit/prom-client-index.test.ts': '', 'test/unit/helper.ts': '' };
  for (let i = 0; i < 9; i++) files[`test/unit/f${i}.test.ts`] = "test('x', () => {});\n";
  files['bench/test/b.test.ts'] = "describe('b', () => {\n  before(() => {});\n});\n";
  const { root, out } = scratch(files);
  try {
    assert.deepEqual(writeTestGroups(root, out), { groups: GROUP_COUNT + 1, files: 11 });
    const groups = fs
      .readdirSync(path.join(out, GROUPS_DIR))
      .sort()
      .map((name) => fs.readFileSync(path.join(out, GROUPS_DIR, name), 'utf8'));
    const imported = groups.map((text) => [...text.matchAll(/\["([^"]+)", "([^"]+)"\]/g)]);
    const sources = imported.flat().map((match) => match[1]);
    assert.deepEqual(
      [...sources].sort(),
      Object.keys(files)
        .filter((file) => file.endsWith('.test.ts'))
        .sort(),
    );
    assert.deepEqual(
      imported.at(-1)?.map((match) => match[1]),
      [...OWN_PROCESS],
    );
    for (const match of imported.flat()) {
      const compiled = path.join(out, GROUPS_DIR, match[2] ?? '');
      assert.equal(
        compiled,
        path.join(out, (match[1] ?? '').replace(/\.ts$/, '.js')),
        'the compiled twin, beside its group',
      );
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a unit file with a hook at its top level is refused, by name', () => {
  const { root, out } = scratch({
    'test/unit/a.test.ts': "test('x', () => {});\n",
    'test/unit/hooked.test.ts': "beforeEach(() => mock.timers.enable());\ntest('x', () => {});\n",
  });
  try {
    assert.throws(() => writeTestGroups(root, out), /test\/unit\/hooked\.test\.ts: a hook at the top level/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a file of a group that cannot be loaded is a failing test named after it; the other files still run', async () => {
  const { root } = scratch({
    'test/unit/broken.test.js': "throw new Error('broken at load');\n",
    'test/unit/sound.test.js': "import { test } from 'node:test';\ntest('sound runs', () => {});\n",
    [path.join(GROUPS_DIR, 'group-01.test.js')]: groupModule('group-01.test.js', [
      'test/unit/broken.test.ts',
      'test/unit/sound.test.ts',
    ]),
  });
  try {
    const run = promisify(execFile)(
      process.execPath,
      ['--test', '--test-reporter=tap', path.join(root, GROUPS_DIR, 'group-01.test.js')],
      // Not as a child of this test runner (its NODE_TEST_CONTEXT would make it report to this one).
      { cwd: root, env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
    );
    const failed = await run.then(
      () => assert.fail('the group passed'),
      (error: { code?: number; stdout?: string }) => error,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stdout ?? '', /not ok \d+ - test\/unit\/broken\.test\.ts could not be loaded/);
    assert.match(failed.stdout ?? '', /broken at load/);
    assert.match(failed.stdout ?? '', /\nok \d+ - sound runs/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
