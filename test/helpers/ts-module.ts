/**
 * How a test runs a TypeScript module of this checkout in a child process. `npm test` runs the
 * tests compiled (`.test-build/`, build/test-build.mjs), where every `X.ts` has its compiled `X.js`
 * beside it: the child runs that with plain `node`. A test run from its source (`node --import tsx
 * --test X.test.ts`) gives the child tsx as well. tsx costs a child 0.4-0.7 s of CPU to load and
 * compile (docs/benchmarks.md "The suite (2026-12-03)").
 */
import { existsSync } from 'node:fs';

/** Whether this helper, and so the test that imports it, runs compiled. */
const RUNNING_COMPILED = import.meta.url.endsWith('.js');

/** What to give `node` to run or import a module. */
export interface NodeModule {
  /** Node flags that go before the module (`['--import', 'tsx']` or none). */
  readonly nodeArgs: readonly string[];
  /** The file to run or import: `tsFile`, or its compiled `.js` twin. */
  readonly file: string;
}

/**
 * The way to run `tsFile` (an absolute path ending in `.ts`) in a child `node`:
 * `spawn(process.execPath, [...m.nodeArgs, m.file, ...args])`.
 */
export function nodeModule(tsFile: string): NodeModule {
  const compiled = tsFile.replace(/\.ts$/, '.js');
  return RUNNING_COMPILED && compiled !== tsFile && existsSync(compiled)
    ? { nodeArgs: [], file: compiled }
    : { nodeArgs: ['--import', 'tsx'], file: tsFile };
}
