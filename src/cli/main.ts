#!/usr/bin/env node
/**
 * The `herd` command line: `start`, `serve`, `client`, `status`, `places import`. Run `herd --help`.
 *
 * Each command's module is imported when that command runs, so a command loads only what it uses:
 * `herd client` never loads the server, `herd serve` never loads the supervisor or the importer
 * (docs/benchmarks.md "Startup").
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BUILT_IN_HERDS, builtInHerdFile, type BuiltInHerd } from '../config/built-in-herds.js';
import { ConfigError, HerdError, UsageError } from '../errors.js';
import { PLACES_SOURCES, type PlacesSource } from '../places/settings.js';
import { CLIENT_TIMEOUT_MS, RESTART_DELAY_MS, STATUS_TIMEOUT_MS } from './defaults.js';
import { placesCommand } from './places.js';
import { mapStackTraces } from './stack-traces.js';

// Run from the bundle (build/bundle.ts), stack traces still name the source files.
mapStackTraces(path.dirname(fileURLToPath(import.meta.url)));

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

const program = new Command()
  .name('herd')
  .description(
    'An application server herd: TCP servers that flood client locations to each other and answer WHATSAT with nearby places.',
  )
  .showHelpAfterError()
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
  herd start --places-data us.places           answer WHATSAT from it`,
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
    .option('--ca <file>', 'PEM CA certificate to verify the server with (implies --tls)'),
).action(
  async (target: string, lines: string[], options: ConfigChoice & { timeout: number; tls?: boolean; ca?: string }) => {
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

// The importer loads only when `places import` runs (src/cli/places.ts); docs/places.md.
program.addCommand(placesCommand());

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof HerdError) {
    process.stderr.write(`herd: ${error.message}\n`);
    process.exitCode = error instanceof ConfigError || error instanceof UsageError ? 2 : 1;
  } else {
    throw error;
  }
}
