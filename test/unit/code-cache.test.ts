/**
 * The code cache of the `herd` executable (src/cli/code-cache.ts): a CommonJS script run through
 * `runWithCodeCache` gets its own `require`, `__filename` and `__dirname` and keeps its line numbers;
 * the first run (no cache yet) writes the cache at exit, the next run uses it, and a cache made from
 * other source is rejected by V8 while the script still runs. Each run is a child process, as each
 * start of `herd` is.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { nodeModule } from '../helpers/ts-module.js';

const CODE_CACHE = nodeModule(path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'code-cache.ts'));

/** Runs `script` through runWithCodeCache in a child; its stdout is `<use> <the script's own output>`. */
async function run(script: string, cache: string, writeTo?: string): Promise<string> {
  const driver = [
    `import { runWithCodeCache } from ${JSON.stringify(CODE_CACHE.file)};`,
    `const use = runWithCodeCache(${JSON.stringify(script)}, ${JSON.stringify(cache)}, ${JSON.stringify(writeTo ?? '')});`,
    "process.stdout.write(use + ' ');",
  ].join('\n');
  const { stdout } = await promisify(execFile)(process.execPath, [
    ...CODE_CACHE.nodeArgs,
    '--input-type=module',
    '-e',
    driver,
  ]);
  return stdout;
}

/** A script whose output says what it was given, and where its line 4 is (from a stack trace). */
function scriptText(marker: string): string {
  return [
    "'use strict';",
    "const path = require('node:path');",
    'function where() {',
    '  return new Error().stack.split("\\n")[1].replace(/^.*:(\\d+):\\d+\\)?$/, "line $1");',
    '}',
    `process.nextTick(() => process.stdout.write([${JSON.stringify(marker)}, path.basename(__filename), path.basename(__dirname), typeof module.exports, where()].join(' ')));`,
  ].join('\n');
}

describe('the code cache of the herd executable', () => {
  test('the first run writes the cache, the next uses it, and a cache of other source is rejected', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-code-cache-'));
    try {
      const script = path.join(dir, 'program.js');
      const cache = path.join(dir, 'program.js.cache');
      await writeFile(script, scriptText('first'));
      const folder = path.basename(dir);
      assert.equal(await run(script, cache, cache), `none first program.js ${folder} object line 4`);
      assert.ok((await stat(cache)).size > 0, 'the cache was written at exit');
      assert.equal(await run(script, cache), `accepted first program.js ${folder} object line 4`);
      // Other source (the bundle rebuilt, the cache not): V8 refuses the cache, the script runs.
      await writeFile(script, scriptText('second, longer'));
      assert.equal(await run(script, cache), `rejected second, longer program.js ${folder} object line 4`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
