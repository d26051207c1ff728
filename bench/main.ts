#!/usr/bin/env node
/** `npm run bench`: the benchmark (see command.ts and docs/benchmarks.md). */
import { ConfigError, HerdError, UsageError } from '../src/errors.js';
import { benchCommand } from './command.js';

try {
  await benchCommand().name('npm run bench --').parseAsync();
} catch (error) {
  if (error instanceof HerdError) {
    process.stderr.write(`herd bench: ${error.message}\n`);
    process.exitCode = error instanceof ConfigError || error instanceof UsageError ? 2 : 1;
  } else {
    throw error;
  }
}
