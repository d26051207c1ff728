/**
 * The `npm run bench` command line (bench/main.ts). The bench is a tool beside the product: it lives
 * outside `src/`, runs through tsx, and drives the built product (`dist/bundle/main.js`) as separate
 * processes. The scenarios are loaded only when the command runs, so `--help` is instant.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { fullShapes } from './scale-shapes.js';
import { SCENARIOS as SCENARIO_NAMES, type ScenarioName } from './scenario-names.js';

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

function scaleShapeList(value: string): string[] {
  const ids = fullShapes().map((shape) => shape.id);
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!ids.includes(name)) throw new InvalidArgumentError(`unknown shape "${name}" (shapes: ${ids.join(', ')})`);
  }
  return names;
}

/** Builds the `bench` command (name `bench`); its action runs the bench and sets `process.exitCode`. */
export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'measure the herd on this machine (floor, iamat, iamat with store.sync, herd ingest, whatsat, server CPU per operation, memory, startup, anti-entropy catch-up, offline places at 2M, heartbeat cost of an idle link, dashboard, herd sizes from 5 to 40 servers) and print one table; see docs/benchmarks.md',
    )
    .option('--json', 'print one JSON object instead of the table')
    .option('--json-file <file>', 'also write that JSON object to <file> (the table or --json still go to stdout)')
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
    .option(
      '--only <scenarios>',
      `run only these, comma-separated: ${SCENARIO_NAMES.join(', ')} (soak runs only when named here)`,
      scenarioList,
    )
    .option(
      '--soak-minutes <minutes>',
      'length of the soak, minutes (default 30; 20 s with --quick)',
      (value: string): number => {
        const minutes = Number(value);
        if (!/^\d+(\.\d+)?$/.test(value) || minutes <= 0 || minutes > 24 * 60)
          throw new InvalidArgumentError('expected a number of minutes, more than 0 and at most 1440');
        return minutes;
      },
    )
    .option(
      '--cpu-prof <dir>',
      'write a CPU profile of each server process of the speed scenarios into <dir> (summary: node --import tsx bench/profile-summary.ts <dir>/*.cpuprofile)',
    )
    .option(
      '--scale-shapes <shapes>',
      'with the scale scenario: measure only these shapes, comma-separated (e.g. mesh-10,mesh-20; default all eight)',
      scaleShapeList,
    )
    .option(
      '--scale-memory-store',
      'with the scale scenario: run the herds with store.durable false, to see what the durable store costs per update',
    )
    .option(
      '--plot <file>',
      'with the scale scenario: write its plot (far-side p99 and link lines per update against herd size) as SVG to <file>',
    )
    .addHelpText(
      'after',
      `
Examples:
  npm run bench                         full run (under 5 minutes on 2 cores), table on stdout
  npm run bench -- --quick --json       every scenario briefly, one JSON object
  npm run bench -- --log-level warn     the same with servers logging only warnings
  npm run bench -- --only herd,catch-up some scenarios only
  npm run bench -- --only soak          30 minutes of load with connection churn and link flaps: RSS, heap, fds per minute
  npm run bench -- --only soak --soak-minutes 10
  npm run bench -- --only scale --plot docs/scale.svg  herd sizes, with the plot
  npm run bench -- --only scale --scale-shapes mesh-10,mesh-20  two of the shapes
  npm run bench -- --only scale --scale-shapes mesh-10 --scale-memory-store  the same without the durable store
  npm run bench -- --only iamat --cpu-prof /tmp/prof && node --import tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile
  npm run bench -- --config my-herd.json  load a running herd`,
    )
    .action(
      async (options: {
        json?: boolean;
        jsonFile?: string;
        quick?: boolean;
        config?: string;
        logLevel: (typeof LOG_LEVELS)[number];
        only?: ScenarioName[];
        cpuProf?: string;
        soakMinutes?: number;
        scaleShapes?: string[];
        scaleMemoryStore?: boolean;
        plot?: string;
      }) => {
        const { runBenchCommand } = await import('./run-bench.js');
        process.exitCode = await runBenchCommand(options);
      },
    );
}
