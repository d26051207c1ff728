/**
 * The `bench` command line, shared by `herd bench` (src/cli/main.ts) and `npm run bench`
 * (dist/bench/main.js). The scenarios are loaded only when the command runs, so the other `herd`
 * commands do not pay for them at start.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ScenarioName } from './run-bench.js';

/** Mirrors `SCENARIOS` in run-bench.ts (kept here so parsing options does not load the scenarios). */
const SCENARIO_NAMES: readonly ScenarioName[] = [
  'floor',
  'iamat',
  'iamat-sync',
  'herd',
  'whatsat',
  'memory',
  'startup',
  'catch-up',
  'places',
];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function scenarioList(value: string): ScenarioName[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name))
      throw new InvalidArgumentError(`unknown scenario "${name}" (scenarios: ${SCENARIO_NAMES.join(', ')})`);
  }
  return names as ScenarioName[];
}

/** Builds the `bench` command (name `bench`); its action runs the bench and sets `process.exitCode`. */
export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'measure the herd on this machine (floor, iamat, iamat with store.sync, herd ingest, whatsat, memory, startup, anti-entropy catch-up, offline places at 2M) and print one table; see docs/benchmarks.md',
    )
    .option('--json', 'print one JSON object instead of the table')
    .option('--quick', 'run every scenario briefly (well under a minute), for smoke tests')
    .option(
      '-c, --config <file>',
      'load a running herd (real ports) instead of starting one; an external server linked to every server lets the bench observe propagation',
    )
    .addOption(
      new Option('--log-level <level>', 'log level of the servers the bench starts')
        .choices(LOG_LEVELS)
        .default('info'),
    )
    .option('--only <scenarios>', `run only these, comma-separated: ${SCENARIO_NAMES.join(', ')}`, scenarioList)
    .option(
      '--cpu-prof <dir>',
      'write a CPU profile of each server process of the speed scenarios into <dir> (summary: node dist/bench/profile-summary.js <dir>/*.cpuprofile)',
    )
    .addHelpText(
      'after',
      `
Examples:
  npm run bench                         full run (under 5 minutes on 2 cores), table on stdout
  herd bench --quick --json             every scenario briefly, one JSON object
  herd bench --log-level warn           the same with servers logging only warnings
  herd bench --only herd,catch-up       some scenarios only
  herd bench --only iamat --cpu-prof /tmp/prof && node dist/bench/profile-summary.js /tmp/prof/*.cpuprofile
  herd bench --config my-herd.json      load a running herd`,
    )
    .action(
      async (options: {
        json?: boolean;
        quick?: boolean;
        config?: string;
        logLevel: (typeof LOG_LEVELS)[number];
        only?: ScenarioName[];
        cpuProf?: string;
      }) => {
        const { runBenchCommand } = await import('./run-bench.js');
        process.exitCode = await runBenchCommand(options);
      },
    );
}
