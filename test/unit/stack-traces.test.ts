/**
 * Stack traces from a bundle name the source files (src/cli/stack-traces.ts): a program bundled with
 * esbuild as build/bundle.ts does, run by plain `node` (not under tsx, which maps stacks itself),
 * throws from a function of one of its sources; the stack's frame points at that source's line and
 * column, and frames of other files are left alone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const STACK_TRACES = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'stack-traces.ts');

describe('stack traces from the bundle', () => {
  test('a frame in a bundled file names its source file, line and column', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-stack-'));
    try {
      // Line 3, column 9 is the `throw`'s `new`.
      await writeFile(
        path.join(dir, 'thrower.ts'),
        'const pad: number = 1;\nexport function fail(): never {\n  throw new Error(`boom ${pad}`);\n}\n',
      );
      await writeFile(
        path.join(dir, 'main.ts'),
        [
          `import { mapStackTraces } from ${JSON.stringify(STACK_TRACES)};`,
          "import { fail } from './thrower.js';",
          "mapStackTraces(new URL('.', import.meta.url).pathname);",
          'try {',
          '  fail();',
          '} catch (error) {',
          '  process.stdout.write((error as Error).stack ?? "");',
          '}',
        ].join('\n'),
      );
      await build({
        entryPoints: [path.join(dir, 'main.ts')],
        outdir: path.join(dir, 'bundle'),
        outExtension: { '.js': '.mjs' },
        bundle: true,
        format: 'esm',
        platform: 'node',
        sourcemap: 'linked',
        minifyWhitespace: true,
        logLevel: 'error',
      });
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, 'bundle', 'main.mjs')], {
        cwd: dir,
      });
      const lines = stdout.split('\n');
      assert.equal(lines[0], 'Error: boom 1');
      assert.match(lines[1] ?? '', /^ {4}at fail \(thrower\.ts:3:9\)$/, stdout);
      assert.match(lines[2] ?? '', /^ {4}at main\.ts:5:3$/, stdout);
      assert.ok(
        lines.some((line) => line.includes('node:internal')),
        'frames outside the bundle are left as they are',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
