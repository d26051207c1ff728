/**
 * Stack traces from a bundle name the source files (src/cli/stack-traces.ts): a program bundled with
 * esbuild as build/bundle.ts does, run by plain `node` (not under tsx, which maps stacks itself),
 * throws from a function of one of its sources; the stack shown (`sourceStack`) points at that
 * source's line and column, and frames of other files are left alone, in an ES module bundle (file
 * URLs) and in a CommonJS one (paths, as the command line is built). Reading `error.stack`, as Node
 * does at every failed socket write, reads no map. Parsed maps are not kept for good: once the keep
 * time has passed (on injected timers), a stack reads the map from disk again.
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

/**
 * Bundles `main.ts` (the lines of `body` after the imports of `mapStackTraces` and of a `fail()` that
 * throws at thrower.ts:3:9) with a linked source map, as build/bundle.ts does, in a temporary
 * folder, runs it with plain `node` there, and returns its stdout (the folder is removed).
 */
async function runBundled(body: readonly string[], format: 'esm' | 'cjs' = 'esm'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-stack-'));
  try {
    return await bundleAndRun(dir, body, format);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function bundleAndRun(dir: string, body: readonly string[], format: 'esm' | 'cjs'): Promise<string> {
  // Line 3, column 9 is the `throw`'s `new`.
  await writeFile(
    path.join(dir, 'thrower.ts'),
    'const pad: number = 1;\nexport function fail(): never {\n  throw new Error(`boom ${pad}`);\n}\n',
  );
  await writeFile(
    path.join(dir, 'main.ts'),
    [
      `import { mapStackTraces, sourceStack } from ${JSON.stringify(STACK_TRACES)};`,
      "import { fail } from './thrower.js';",
      ...body,
    ].join('\n'),
  );
  await build({
    entryPoints: [path.join(dir, 'main.ts')],
    outdir: path.join(dir, 'bundle'),
    outExtension: { '.js': format === 'esm' ? '.mjs' : '.cjs' },
    bundle: true,
    format,
    platform: 'node',
    sourcemap: 'linked',
    minifyWhitespace: true,
    logLevel: 'error',
  });
  const main = path.join(dir, 'bundle', format === 'esm' ? 'main.mjs' : 'main.cjs');
  const { stdout } = await promisify(execFile)(process.execPath, [main], { cwd: dir });
  return stdout;
}

/** The bundled main's lines: map stack traces from `bundleDir` (an expression), then print `fail()`'s stack as shown. */
function mapAndThrow(bundleDir: string): string[] {
  return [
    `mapStackTraces(${bundleDir});`,
    'try {',
    '  fail();',
    '} catch (error) {',
    '  process.stdout.write(sourceStack(error));',
    '}',
  ];
}

/**
 * Lines that declare `timers` the bundled program fires itself (`due` holds what is set): the keep time
 * passes when it says so, and the first map read shows as one timer set.
 */
const INJECTED_TIMERS = [
  'const due: (() => void)[] = [];',
  'const timers = { now: () => 0, setTimeout: (callback: () => void) => (due.push(callback), {}), clearTimeout: () => {} };',
];

describe('stack traces from the bundle', () => {
  test('a frame in a bundled file names its source file, line and column in the stack shown', async () => {
    const stdout = await runBundled(mapAndThrow("new URL('.', import.meta.url).pathname"));
    const lines = stdout.split('\n');
    assert.equal(lines[0], 'Error: boom 1');
    assert.match(lines[1] ?? '', /^ {4}at fail \(thrower\.ts:3:9\)$/, stdout);
    assert.match(lines[2] ?? '', /^ {4}at main\.ts:5:3$/, stdout);
    assert.ok(
      lines.some((line) => line.includes('node:internal')),
      'frames outside the bundle are left as they are',
    );
  });

  test('in a CommonJS bundle (as build/bundle.ts builds the command line), a frame names its source too', async () => {
    const stdout = await runBundled(mapAndThrow('__dirname'), 'cjs');
    const lines = stdout.split('\n');
    assert.equal(lines[0], 'Error: boom 1');
    assert.match(lines[1] ?? '', /^ {4}at fail \(thrower\.ts:3:9\)$/, stdout);
    assert.match(lines[2] ?? '', /^ {4}at (Object\.<anonymous> \()?main\.ts:5:3\)?$/, stdout);
  });

  test('reading error.stack reads no map: only the stack shown is mapped', async () => {
    const stdout = await runBundled([
      ...INJECTED_TIMERS,
      'mapStackTraces(new URL(".", import.meta.url).pathname, timers);',
      'let caught: unknown;',
      'try { fail(); } catch (error) { caught = error; }',
      'const raw = ((caught as Error).stack ?? "").split("\\n")[1] ?? "";',
      '// The first map read sets the keep timer: none so far.',
      'const readBefore = due.length;',
      'const shown = sourceStack(caught).split("\\n")[1] ?? "";',
      'process.stdout.write([raw, String(readBefore), shown, String(due.length)].join("\\n"));',
    ]);
    const [raw, readBefore, shown, readAfter] = stdout.split('\n');
    assert.match(raw ?? '', /^ {4}at fail \(.*main\.mjs:\d+:\d+\)$/, stdout);
    assert.equal(readBefore, '0', 'formatting error.stack read no map');
    assert.match(shown ?? '', /^ {4}at fail \(thrower\.ts:3:9\)$/, stdout);
    assert.equal(readAfter, '1', 'showing it read the map');
  });

  test('a parsed map is dropped once the keep time has passed, and read again from disk', async () => {
    const stdout = await runBundled([
      "import { rmSync } from 'node:fs';",
      ...INJECTED_TIMERS,
      'const dir = new URL(".", import.meta.url).pathname;',
      'mapStackTraces(dir, timers);',
      'const frame = (): string => { try { fail(); } catch (error) { return sourceStack(error).split("\\n")[1] ?? ""; } };',
      'const lines = [frame()];',
      '// Without its map on disk, the parsed one is still used until the keep time has passed ...',
      'rmSync(`${dir}main.mjs.map`);',
      'lines.push(frame(), String(due.length));',
      'for (const callback of due.splice(0)) callback();',
      '// ... and then it is gone: the frame stays as the bundle has it.',
      'lines.push(frame());',
      'process.stdout.write(lines.join("\\n"));',
    ]);
    const [first, cached, timersSet, dropped] = stdout.split('\n');
    assert.match(first ?? '', /^ {4}at fail \(thrower\.ts:3:9\)$/, stdout);
    assert.equal(cached, first, 'the map read once serves until the keep time has passed');
    assert.equal(timersSet, '1', 'one timer for all the maps read');
    assert.match(dropped ?? '', /^ {4}at fail \(.*main\.mjs:\d+:\d+\)$/, stdout);
  });
});
