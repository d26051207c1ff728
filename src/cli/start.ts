/**
 * `herd start`: the supervisor. Forks one `herd serve` process per server of the config, tells every
 * server where its neighbours listen (so ports may be 0), prints where each listens and logs (and its
 * admin URL), keeps the runtime file `<logDir>/herd-runtime.json` up to date (src/cli/runtime-file.ts),
 * restarts a server that dies, passes SIGHUP on to every server (each reopens its log file), and
 * stops them all on SIGINT or SIGTERM.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHerdConfig, type HerdConfig } from '../config/herd-config.js';
import { loadHerdSecret } from '../peers/herd-secret.js';
import { assertAdminPortsAllowed, loadAdminTokens } from '../observability/admin-auth.js';
import { HerdError } from '../errors.js';
import { assertPlacesDataReadable, resolvePlacesSettings, type PlacesSource } from '../places/settings.js';
import type { PeerAddress } from '../peers/outgoing-link.js';
import { RESTART_DELAY_MS, SERVER_STOP_TIMEOUT_MS } from './defaults.js';
import {
  JOIN_ENV,
  PEER_ADDRESSES_ENV,
  isFailedMessage,
  isListeningMessage,
  sendQuietly,
  type ListeningMessage,
  type PeersMessage,
} from './ipc.js';
import { commandHint, countServers } from './wording.js';
import { describeExit, externalLines, memberLines } from './start-report.js';
import { httpUrl } from '../core/hosts.js';
import {
  RUNTIME_FILE_VERSION,
  readRuntimeFile,
  removeRuntimeFile,
  runtimeFilePath,
  writeRuntimeFile,
  type RuntimeServer,
} from './runtime-file.js';

export { HERD_UP_LINE, MEMBER_LINE } from './start-report.js';

/** Longest wait for a server to report that it listens, ms. */
export const SERVER_START_TIMEOUT_MS = 15_000;
export { SERVER_STOP_TIMEOUT_MS } from './defaults.js';

/** Options of {@link startHerd}. */
export interface StartOptions {
  readonly configFile: string;
  /** Overrides the config's `logDir`. */
  readonly logDir?: string;
  /** Overrides the config's `dataDir`. */
  readonly dataDir?: string;
  /** Overrides the config's `places.source`; passed on to every `herd serve` as `--places`. */
  readonly places?: PlacesSource;
  /** Overrides the config's `places.data`; passed on to every `herd serve` as `--places-data` (absolute). */
  readonly placesData?: string;
  /** Restart a server that exits unexpectedly. @default true */
  readonly restart?: boolean;
  /** Delay before such a restart, ms. @default {@link RESTART_DELAY_MS} */
  readonly restartDelayMs?: number;
  /** Where progress lines go. @default stdout */
  readonly print?: (line: string) => void;
}

interface Member {
  readonly name: string;
  child: ChildProcess | undefined;
  listening: ListeningMessage | undefined;
  /** The client port the server first bound: a restart reuses it so clients need no news. */
  pinnedPort: number | undefined;
  /** Likewise for the peer port, so neighbours need no news. */
  pinnedPeerPort?: number;
  /** Likewise for the admin port, so `herd status` keeps finding it. */
  pinnedAdminPort?: number;
  /** Last report of the server, kept for the runtime file after it exits. */
  lastListening?: ListeningMessage;
}

const MAIN_SCRIPT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  `main${path.extname(fileURLToPath(import.meta.url))}`,
);

/**
 * Starts every server of a herd and supervises them until SIGINT/SIGTERM.
 *
 * @returns when every server has stopped after a signal.
 * @throws {ConfigError} for a bad config, or an admin port on a non-loopback address without an
 *   admin token; `UsageError` for a Google places source without `GOOGLE_PLACES_API_KEY`;
 *   `PlacesDataError` for an offline data file that cannot be read or is not a places data file of
 *   this version (before any server starts); {@link HerdError} when a herd of this config already
 *   runs (its runtime file names a live `herd start`), or when a server fails to start, with that
 *   server's reason (the others are stopped first).
 */
export async function startHerd(options: StartOptions): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const configFile = path.resolve(options.configFile);
  const config: HerdConfig = loadHerdConfig(configFile);
  // A missing key or data file is one clear error here rather than one per forked server.
  const placesData = options.placesData === undefined ? undefined : path.resolve(options.placesData);
  if (placesData !== undefined) config.places.data = placesData;
  assertPlacesDataReadable(resolvePlacesSettings(config.places, process.env, options.places));
  const restart = options.restart ?? true;
  const restartDelayMs = options.restartDelayMs ?? RESTART_DELAY_MS;
  const logDir = path.resolve(options.logDir ?? config.logDir);
  const dataDir = path.resolve(options.dataDir ?? config.dataDir);
  // External servers run elsewhere: they are linked to, not started.
  const members = config.servers
    .filter((server) => !server.external)
    .map((server): Member => ({ name: server.name, child: undefined, listening: undefined, pinnedPort: undefined }));
  const externals = config.servers.filter((server) => server.external);
  // The same refusal as each `herd serve`, once, before any server starts.
  const withAdmin = config.servers.filter((server) => !server.external && server.adminPort !== undefined);
  assertAdminPortsAllowed(
    config,
    configFile,
    withAdmin.map((server) => server.name),
    loadAdminTokens(config.admin),
  );
  let stopping = false;
  const width = Math.max(...config.servers.map((server) => server.name.length));

  const addresses = (): Record<string, PeerAddress> => {
    const out: Record<string, PeerAddress> = {};
    for (const server of externals) out[server.name] = { host: server.peerHost, port: server.peerPort };
    for (const member of members) {
      const server = config.servers.find((s) => s.name === member.name);
      if (member.listening !== undefined && server !== undefined)
        out[member.name] = { host: server.peerHost, port: member.listening.peerPort };
    }
    return out;
  };
  const adminUrls = (): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const server of externals)
      if (server.adminPort !== undefined) out[server.name] = httpUrl(server.adminHost, server.adminPort);
    for (const member of members) {
      const url = member.lastListening?.adminUrl;
      if (url !== undefined) out[member.name] = url;
    }
    return out;
  };
  const broadcastPeers = (): void => {
    const message: PeersMessage = { type: 'peers', addresses: addresses(), adminUrls: adminUrls() };
    for (const member of members) if (member.child !== undefined) sendQuietly(member.child, message);
  };
  const describe = (listening: ListeningMessage): void => memberLines(listening, width).forEach(print);
  // Where each server really listens, for `herd status` and `herd client` (docs/observability.md).
  const runtimeFile = runtimeFilePath(logDir);
  const running = readRuntimeFile(runtimeFile, configFile);
  if (running !== undefined) {
    throw new HerdError(
      'HERD_ALREADY_RUNNING',
      `this herd is already running (herd start pid ${running.supervisorPid}, ${runtimeFile}): ${commandHint('status', configFile)} shows it, ${commandHint('stop', configFile)} stops it`,
    );
  }
  const writeRuntime = (): void => {
    const servers: Record<string, RuntimeServer> = {};
    for (const member of members) {
      const last = member.lastListening;
      const server = config.servers.find((s) => s.name === member.name);
      if (last === undefined || server === undefined) continue;
      servers[member.name] = {
        host: server.host,
        port: last.port,
        peerHost: server.peerHost,
        peerPort: last.peerPort,
        adminUrl: last.adminUrl,
        pid: last.pid,
        logFile: last.logFile,
      };
    }
    try {
      writeRuntimeFile(runtimeFile, {
        version: RUNTIME_FILE_VERSION,
        configFile,
        supervisorPid: process.pid,
        updatedAt: new Date().toISOString(),
        servers,
      });
    } catch (error) {
      print(`herd: cannot write ${runtimeFile}: ${(error as Error).message}; herd status will use the config's ports`);
    }
  };

  // At the first start the servers start together: none waits for the others' links (JOIN_ENV).
  let firstStart = true;
  const spawn = (member: Member): Promise<ListeningMessage> => {
    const args = ['serve', member.name, '--config', configFile, '--log-dir', logDir, '--data-dir', dataDir];
    if (member.pinnedPort !== undefined) args.push('--port', String(member.pinnedPort));
    if (member.pinnedPeerPort !== undefined) args.push('--peer-port', String(member.pinnedPeerPort));
    if (options.places !== undefined) args.push('--places', options.places);
    if (placesData !== undefined) args.push('--places-data', placesData);
    if (member.pinnedAdminPort !== undefined) args.push('--admin-port', String(member.pinnedAdminPort));
    // Own process group: a terminal's Ctrl-C reaches only the supervisor, which then stops each server in order.
    // The addresses known now go with it, so that a restarted server dials its neighbours at once.
    const child = fork(MAIN_SCRIPT, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
      env: {
        ...process.env,
        [PEER_ADDRESSES_ENV]: JSON.stringify(addresses()),
        ...(firstStart ? { [JOIN_ENV]: '0' } : {}),
      },
    });
    member.child = child;
    member.listening = undefined;
    // A child's 'error' (it could not be forked or signalled) is said, never left to end the supervisor.
    child.on('error', (error) => print(`herd: ${member.name}: ${error.message}`));
    // Why the server could not start, in its own words (ipc.ts FailedMessage).
    let failure: string | undefined;
    return new Promise<ListeningMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new HerdError(
            'HERD_START_TIMEOUT',
            `${member.name} did not start listening within ${SERVER_START_TIMEOUT_MS} ms`,
          ),
        );
      }, SERVER_START_TIMEOUT_MS);
      child.on('message', (message) => {
        if (isFailedMessage(message)) failure = message.reason;
        if (!isListeningMessage(message)) return;
        clearTimeout(timer);
        member.listening = message;
        member.pinnedPort ??= message.port;
        member.pinnedPeerPort ??= message.peerPort;
        if (message.adminUrl !== undefined) member.pinnedAdminPort ??= Number(new URL(message.adminUrl).port);
        member.lastListening = message;
        // Every server learns each new address at once (those it already dials ignore it).
        broadcastPeers();
        resolve(message);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (member.child === child) member.child = undefined;
        if (member.listening === undefined) {
          reject(
            new HerdError(
              'HERD_START_FAILED',
              failure === undefined
                ? `${member.name} failed to start (${describeExit(code, signal)}); its log is ${path.join(logDir, `${member.name}.log`)}`
                : `${member.name}: ${failure}`,
            ),
          );
          return;
        }
        member.listening = undefined;
        if (stopping) return;
        if (!restart) {
          print(`herd: ${member.name} exited (${describeExit(code, signal)}); not restarting (--no-restart)`);
          return;
        }
        print(`herd: ${member.name} exited (${describeExit(code, signal)}); restarting in ${restartDelayMs} ms`);
        restartLater(member);
      });
    });
  };

  // A restart that dies before it listens is tried again after the delay: it never gives up.
  const restartLater = (member: (typeof members)[number]): void => {
    setTimeout(() => {
      if (stopping) return;
      spawn(member).then(
        (listening) => {
          describe(listening);
          writeRuntime();
          print(`herd: ${member.name} is back`);
        },
        (error: unknown) => {
          if (stopping) return;
          print(
            `herd: ${member.name} did not come back (${(error as Error).message}); trying again in ${restartDelayMs} ms`,
          );
          restartLater(member);
        },
      );
    }, restartDelayMs);
  };

  const stopAll = async (): Promise<void> => {
    stopping = true;
    await Promise.all(
      members.map(async (member) => {
        const child = member.child;
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), SERVER_STOP_TIMEOUT_MS);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }),
    );
  };

  if (loadHerdSecret(config.secretFile) === undefined) {
    print(
      'herd: warning: no herd secret (HERD_SECRET, HERD_SECRET_FILE or secretFile in the config): links are not authenticated (development mode)',
    );
  }
  print(
    `herd: starting ${countServers(members.length)} of ${configFile} (logs in ${logDir}${config.store.durable ? `, data in ${dataDir}` : ''})`,
  );
  const started = performance.now();
  try {
    const listening = await Promise.all(members.map((member) => spawn(member)));
    firstStart = false;
    for (const message of listening) describe(message);
  } catch (error) {
    await stopAll();
    throw error;
  }
  for (const server of externals) externalLines(server, width).forEach(print);
  writeRuntime();

  // Signal handlers before the "up" line: a signal sent on seeing it must not meet the default action,
  // which ends the supervisor at once. SIGHUP: log rotation, as under systemd (docs/deploy.md).
  const onHangup = (): void => {
    for (const member of members) member.child?.kill('SIGHUP');
  };
  process.on('SIGHUP', onHangup);
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal: kill at once.
        for (const member of members) member.child?.kill('SIGKILL');
        return;
      }
      print(`herd: ${signal}: stopping ${countServers(members.length)}`);
      void stopAll().then(() => {
        removeRuntimeFile(runtimeFile);
        print('herd: all servers stopped');
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('SIGHUP', onHangup);
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  print(
    `herd: ${countServers(members.length)} up in ${Math.round(performance.now() - started)} ms; ${members.length === 1 ? 'Ctrl-C stops it' : 'Ctrl-C stops them all'}`,
  );
  await stopped;
}
