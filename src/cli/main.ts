#!/usr/bin/env node
/** The `herd` command line: `start`, `serve`, `client`. Run `herd --help`. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { BUILT_IN_HERDS, builtInHerdFile, type BuiltInHerd } from '../config/herd-config.js';
import { ConfigError, HerdError, UsageError } from '../errors.js';
import { runClient, CLIENT_TIMEOUT_MS } from './client.js';
import { serve } from './serve.js';
import { RESTART_DELAY_MS, startHerd } from './start.js';

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
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

function addConfigOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'herd config file (JSON; see docs/operations.md)').conflicts('herd'))
    .addOption(new Option('--herd <name>', 'a shipped herd (PROTOCOL.md section 1)').choices(BUILT_IN_HERDS).default('default'));
}

const program = new Command()
  .name('herd')
  .description('An application server herd: TCP servers that flood client locations to each other and answer WHATSAT with nearby places.')
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Examples:
  herd start                                   run the default five-server herd (ports 12000-12004)
  herd client Alford 'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503'
  herd client Ball 'WHATSAT kiwi.cs.ucla.edu 10 5'
  herd serve Alford --config my-herd.json      run one member in the foreground`,
  );

addConfigOptions(
  program
    .command('start')
    .description('start every server of the herd, each in its own process; restart any that dies; Ctrl-C or SIGTERM stops all')
    .option('--log-dir <dir>', "folder of the log files (overrides the config's logDir)")
    .option('--data-dir <dir>', "folder of the durable stores (overrides the config's dataDir)")
    .option('--no-restart', 'do not restart a server that exits')
    .option('--restart-delay <ms>', 'delay before restarting a server that exited', integer(0, 3_600_000), RESTART_DELAY_MS),
).action(async (options: ConfigChoice & { logDir?: string; dataDir?: string; restart: boolean; restartDelay: number }) => {
  await startHerd({ configFile: configFileOf(options), logDir: options.logDir, dataDir: options.dataDir, restart: options.restart, restartDelayMs: options.restartDelay });
});

addConfigOptions(
  program
    .command('serve')
    .description('run one server of the herd in the foreground (how each member runs on its own machine)')
    .argument('<name>', 'server name in the config')
    .option('-p, --port <port>', 'listen on this port instead of the configured one', integer(0, 65535))
    .option('--log-dir <dir>', "folder of the log files (overrides the config's logDir)")
    .option('--data-dir <dir>', "folder of the durable store (overrides the config's dataDir)"),
).action(async (name: string, options: ConfigChoice & { port?: number; logDir?: string; dataDir?: string }) => {
  await serve({ configFile: configFileOf(options), name, port: options.port, logDir: options.logDir, dataDir: options.dataDir });
});

addConfigOptions(
  program
    .command('client')
    .description('send lines to a server and print every reply; without lines, read them from stdin (interactive on a terminal)')
    .argument('<target>', 'server name in the config, or host:port')
    .argument('[lines...]', 'command lines to send, e.g. "WHATSAT kiwi.cs.ucla.edu 10 5"')
    .option('-t, --timeout <ms>', 'give up when the server is silent this long (not interactive)', integer(1, 3_600_000), CLIENT_TIMEOUT_MS),
).action(async (target: string, lines: string[], options: ConfigChoice & { timeout: number }) => {
  process.exitCode = await runClient({ target, lines, configFile: configFileOf(options), timeoutMs: options.timeout });
});

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
