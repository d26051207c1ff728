/** `npm run bench`: the benchmark (see command.ts and docs/benchmarks.md). */
import { ConfigError, HerdError, UsageError } from '../src/errors.js';
import { abandonBench } from './bench-processes.js';
import { benchCommand } from './command.js';

// Interrupted (Ctrl-C, SIGTERM): stop the herds the bench started and remove its folders, then leave.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nherd bench: ${signal}: stopping the servers it started\n`);
    void abandonBench().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

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
