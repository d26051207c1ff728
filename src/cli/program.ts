/**
 * The `herd` command line as a commander program: `start`, `stop`, `serve`, `client`, `status`,
 * `places import`, `version`. main.ts runs it; tests read its help. Every mistake commander catches
 * (an unknown option, a missing argument) is one line on stderr with exit code 2.
 *
 * Each command's module is imported when that command runs, so a command loads only what it uses:
 * `herd client` never loads the server, `herd serve` never the supervisor or the importer (the
 * defaults shown in the help are in ./defaults.js; docs/benchmarks.md "Startup").
 */
import { Command, InvalidArgumentError, Option, type CommanderError } from 'commander';
import { BUILT_IN_HERDS, builtInHerdFile, type BuiltInHerd } from '../config/shipped-herds.js';
import { EXIT_RUNTIME, EXIT_USAGE } from '../errors.js';
import { PLACES_SOURCES, type PlacesSource } from '../places/settings.js';
import { CLIENT_TIMEOUT_MS, RESTART_DELAY_MS, STATUS_TIMEOUT_MS, STOP_TIMEOUT_MS } from './defaults.js';
import { placesCommand } from './places.js';
import { versionLine } from './version.js';

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

interface ConfigChoice {
  config?: string;
  herd: BuiltInHerd;
}

function configFileOf(options: ConfigChoice): string {
  return options.config ?? builtInHerdFile(options.herd);
}

function placesOption(): Option {
  return new Option(
    '--places <source>',
    "places source (overrides the config's places.source; see docs/places.md)",
  ).choices(PLACES_SOURCES);
}

function placesDataOption(): Option {
  return new Option(
    '--places-data <file>',
    "offline places data file, from herd places import (overrides the config's places.data; see docs/places.md)",
  );
}

function addConfigOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'herd config file (JSON; see docs/operations.md)').conflicts('herd'))
    .addOption(
      new Option('--herd <name>', 'a shipped herd (docs/protocol.md "The herd")')
        .choices(BUILT_IN_HERDS)
        .default('default'),
    );
}

/** The exit codes, as every command's help ends with them. */
const EXIT_CODES_HELP = `
Exit codes: 0 success; ${EXIT_RUNTIME} a failure at run time (a port in use, a server down, a "? " reply); ${EXIT_USAGE} a usage or config mistake.`;

/**
 * Makes commander's own errors (unknown option, missing argument, bad choice) one line on stderr,
 * `herd <command>: <what>; see herd <command> --help`, and hands them to main.ts as exceptions
 * (exit code 2) rather than exiting, for this command and every subcommand.
 */
function oneLineErrors(command: Command): void {
  const names: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent) names.unshift(at.name());
  const name = names.join(' ');
  command.exitOverride().configureOutput({
    outputError: (text, write) => {
      const what = text
        .replace(/^error: /, '')
        .trim()
        .replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)')
        .replace(/\s*\n\s*/g, ' ')
        .replace(/\.$/, '');
      write(`${name}: ${what}; see ${name} --help\n`);
    },
  });
  for (const sub of command.commands) oneLineErrors(sub);
}

/**
 * The exit code of a commander outcome that {@link buildProgram} raises as a `CommanderError`: 0 for
 * help and `--version`, {@link EXIT_USAGE} (2) for a usage mistake (already printed in one line).
 */
export function commanderExitCode(error: CommanderError): number {
  return error.exitCode === 0 ? 0 : EXIT_USAGE;
}

/** Builds the whole `herd` program (commands, options, help). */
export function buildProgram(): Command {
  const program = new Command()
    .name('herd')
    .description(
      'An application server herd: TCP servers that flood client locations to each other and answer WHATSAT with nearby places.',
    )
    .version(versionLine(), '-V, --version', 'print the version of herd and of Node.js')
    .addHelpText(
      'after',
      `
Examples:
  herd start                                   run the default five-server herd (ports 12000-12004)
  herd client Alford 'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503'
  herd client Ball 'WHATSAT kiwi.cs.ucla.edu 10 5'
  herd serve Alford --config my-herd.json      run one member in the foreground
  herd status                                  one table: up/down, links, clients, lag, admin URLs
  herd places import US.zip --out us.places    offline places from a GeoNames dump (docs/places.md)
  herd start --places-data us.places           answer WHATSAT from it
  herd stop                                    stop the herd herd start runs
${EXIT_CODES_HELP}`,
    );

  addConfigOptions(
    program
      .command('start')
      .description(
        'start every server of the herd, each in its own process; restart any that dies; Ctrl-C or SIGTERM stops all',
      )
      .option('--log-dir <dir>', "folder of the log files (overrides the config's logDir)")
      .option('--data-dir <dir>', "folder of the durable stores (overrides the config's dataDir)")
      .addOption(placesOption())
      .addOption(placesDataOption())
      .option('--no-restart', 'do not restart a server that exits')
      .option(
        '--restart-delay <ms>',
        'delay before restarting a server that exited',
        integer(0, 3_600_000),
        RESTART_DELAY_MS,
      ),
  ).action(
    async (
      options: ConfigChoice & {
        logDir?: string;
        dataDir?: string;
        places?: PlacesSource;
        placesData?: string;
        restart: boolean;
        restartDelay: number;
      },
    ) => {
      const { startHerd } = await import('./start.js');
      await startHerd({
        configFile: configFileOf(options),
        logDir: options.logDir,
        dataDir: options.dataDir,
        places: options.places,
        placesData: options.placesData,
        restart: options.restart,
        restartDelayMs: options.restartDelay,
      });
    },
  );

  addConfigOptions(
    program
      .command('serve')
      .description('run one server of the herd in the foreground (how each member runs on its own machine)')
      .argument('<name>', 'server name in the config')
      .option('-p, --port <port>', 'client port, instead of the configured port (0: any)', integer(0, 65535))
      .option('--peer-port <port>', 'peer port, instead of the configured peerPort (0: any)', integer(0, 65535))
      .option(
        '--admin-port <port>',
        'serve /metrics, /status, /healthz on this port (0: any) instead of the configured adminPort',
        integer(0, 65535),
      )
      .option('--log-dir <dir>', "folder of the log files (overrides the config's logDir)")
      .option('--data-dir <dir>', "folder of the durable store (overrides the config's dataDir)")
      .addOption(placesOption())
      .addOption(placesDataOption()),
  ).action(
    async (
      name: string,
      options: ConfigChoice & {
        port?: number;
        peerPort?: number;
        adminPort?: number;
        logDir?: string;
        dataDir?: string;
        places?: PlacesSource;
        placesData?: string;
      },
    ) => {
      const { serve } = await import('./serve.js');
      await serve({
        configFile: configFileOf(options),
        name,
        port: options.port,
        peerPort: options.peerPort,
        adminPort: options.adminPort,
        logDir: options.logDir,
        dataDir: options.dataDir,
        places: options.places,
        placesData: options.placesData,
      });
    },
  );

  addConfigOptions(
    program
      .command('client')
      .description(
        'send lines to a server and print every reply; without lines, read them from stdin (interactive on a terminal)',
      )
      .argument('<target>', 'server name in the config, or host:port')
      .argument('[lines...]', 'command lines to send, e.g. "WHATSAT kiwi.cs.ucla.edu 10 5"')
      .option(
        '-t, --timeout <ms>',
        'give up when the server is silent this long (not interactive)',
        integer(1, 3_600_000),
        CLIENT_TIMEOUT_MS,
      )
      .option('--tls', 'connect with TLS (automatic when the config has a tls section)')
      .option('--ca <file>', 'PEM CA certificate to verify the server with (implies --tls)')
      .addHelpText(
        'after',
        `
A reply "? <line>" means the server did not accept that line (malformed, unknown client, clock
skew ...); the server's log says why in the "reason" of its "command" event (docs/operations.md
"Logs"). Give --config FILE (or --herd NAME) to reach the servers of your own herd by name.

Exit codes: 0 every reply received and none was "? "; ${EXIT_RUNTIME} a "? " reply, or the server could not be
reached or closed without replying; ${EXIT_USAGE} a usage or config mistake.`,
      ),
  ).action(
    async (
      target: string,
      lines: string[],
      options: ConfigChoice & { timeout: number; tls?: boolean; ca?: string },
    ) => {
      const { clientTlsOptions, runClient } = await import('./client.js');
      const configFile = configFileOf(options);
      const tls = clientTlsOptions(configFile, { tls: options.tls, ca: options.ca });
      process.exitCode = await runClient({ target, lines, configFile, timeoutMs: options.timeout, tls });
    },
  );

  addConfigOptions(
    program
      .command('status')
      .description(
        "one table for the whole herd from each server's admin port: up/down, links, clients held, event-loop lag, admin URL (exit 1 if any is not up)",
      )
      .option(
        '--log-dir <dir>',
        "the --log-dir given to herd start, where its runtime file is (default: the config's logDir)",
      )
      .option('-t, --timeout <ms>', 'longest wait for each server', integer(1, 60_000), STATUS_TIMEOUT_MS)
      .option('--json', 'print JSON instead of the table'),
  ).action(async (options: ConfigChoice & { logDir?: string; timeout: number; json?: boolean }) => {
    const { herdStatus } = await import('./status.js');
    process.exitCode = await herdStatus({
      configFile: configFileOf(options),
      logDir: options.logDir,
      timeoutMs: options.timeout,
      json: options.json,
    });
  });

  addConfigOptions(
    program
      .command('stop')
      .description(
        'stop the herd that herd start runs for this config (through its runtime file) and wait until it has exited; says so when none is running (exit 0)',
      )
      .option(
        '--log-dir <dir>',
        "the --log-dir given to herd start, where its runtime file is (default: the config's logDir)",
      )
      .option('-t, --timeout <ms>', 'longest wait for the herd to exit', integer(1, 600_000), STOP_TIMEOUT_MS),
  ).action(async (options: ConfigChoice & { logDir?: string; timeout: number }) => {
    const { stopHerd } = await import('./stop.js');
    process.exitCode = await stopHerd({
      configFile: configFileOf(options),
      logDir: options.logDir,
      timeoutMs: options.timeout,
    });
  });

  // The importer loads only when `places import` runs (src/cli/places.ts); docs/places.md.
  program.addCommand(placesCommand());

  program
    .command('version')
    .description('print the version of herd and of Node.js')
    .action(() => {
      process.stdout.write(`${versionLine()}\n`);
    });

  oneLineErrors(program);
  return program;
}
