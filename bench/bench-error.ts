/** Errors of the benchmark. */
import { HerdError, type HerdErrorOptions } from '../src/errors.js';

/**
 * A benchmark scenario could not run or finish: a process did not start, a connection failed, or
 * the herd did not converge in time. `code` is `HERD_BENCH_FAILED`.
 */
export class BenchError extends HerdError {
  constructor(message: string, options: HerdErrorOptions = {}) {
    super('HERD_BENCH_FAILED', message, options);
  }
}

/**
 * A scenario cannot run in this configuration (e.g. one that restarts a server, on a `--config` herd
 * the bench did not start). Reported as skipped, not failed. `code` is `HERD_BENCH_SKIPPED`.
 */
export class ScenarioSkipped extends HerdError {
  constructor(message: string, options: HerdErrorOptions = {}) {
    super('HERD_BENCH_SKIPPED', message, options);
  }
}
