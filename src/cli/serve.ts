/**
 * `herd serve NAME`: runs one herd member in the foreground.
 *
 * Before the ports accept, only what serving needs is loaded and done: the config is checked, the log
 * and the durable store are opened, the place data is read (its reads run on libuv's threads while
 * the store opens) and the admin port is bound. The rows of the store come after listening; the
 * admin server, the dashboard and the store's writer thread once the herd listens (./serve-admin.ts),
 * none holding the event loop for more than a few milliseconds (docs/operations.md "Start-up").
 */
import path from 'node:path';
import { loadHerdConfig, neighboursOf } from '../config/herd-config.js';
import { loadTlsOptions } from '../config/tls.js';
import { HerdError, UsageError } from '../errors.js';
import { openServerLog } from '../observability/logger.js';
import { loopBlockLog } from '../observability/loop-block-log.js';
import { MetricsObserver } from '../observability/metrics.js';
import { LOOP_BLOCK_MS } from '../observability/metrics-settings.js';
import { composeObservers, LateHooks } from '../observability/observer.js';
import { watchStartupDelay } from '../observability/startup-delay.js';
import { loadHerdSecret } from '../peers/herd-secret.js';
import type { PeerAddress } from '../peers/outgoing-link.js';
import { assertPlacesDataReadable, resolvePlacesSettings, type PlacesSource } from '../places/settings.js';
import { HerdServer } from '../server/herd-server.js';
import { RestoringStore } from '../store/restoring-store.js';
import { openSqliteLog, type OpenedLog } from '../store/sqlite-open.js';
import {
  JOIN_ENV,
  isPeersMessage,
  peerAddressesFromEnv,
  reportStartFailure,
  sendQuietly,
  type ListeningMessage,
  type PeersMessage,
} from './ipc.js';
import { portError } from './port-errors.js';
import { openPlacesProvider, preparePlaces } from './serve-places.js';
import { sourceStack } from './stack-traces.js';
import type { AdminServer } from '../observability/admin-server.js';
import { AdminListener } from '../observability/admin-listener.js';
import { assertAdminPortsAllowed, loadAdminTokens } from '../observability/admin-auth.js';
import type { Dashboard } from '../dashboard/dashboard.js';
import { deferredStart, linksHeldUntil, namesEveryServer, startAdmin } from './serve-admin.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Path of the herd config file. */
  readonly configFile: string;
  /** Which server of the config to run. */
  readonly name: string;
  /** Overrides the configured client port (the supervisor pins a restarted server to its first port). */
  readonly port?: number;
  /** Overrides the configured peer port (pinned like `port`). */
  readonly peerPort?: number;
  /**
   * Overrides the configured `adminPort` (0: the OS chooses); the supervisor pins it like `port`. An
   * admin port that cannot be bound stops the server (exit code 1).
   */
  readonly adminPort?: number;
  /** Overrides the config's `logDir`. */
  readonly logDir?: string;
  /** Overrides the config's `dataDir`. */
  readonly dataDir?: string;
  /** Overrides the config's `places.source` (`--places`). */
  readonly places?: PlacesSource;
  /** Overrides the config's `places.data` (`--places-data`), relative to the working directory. */
  readonly placesData?: string;
}

/**
 * Runs one server until SIGINT or SIGTERM (or, under `herd start`, until the supervisor goes away).
 *
 * @throws {ConfigError} for a bad config, an unreadable or short admin token, or an admin port on a
 *   non-loopback address without an admin token (src/observability/admin-auth.ts
 *   `assertAdminPortsAllowed`); {@link UsageError} for a name the config does not have, a
 *   Google places source without `GOOGLE_PLACES_API_KEY`, or a data folder that cannot be made;
 *   `PlacesDataError` for an offline data file that cannot be read or is not a places data file of
 *   this version (before anything listens or logs). A port that cannot be bound is reported (`herd:
 *   <name>: <port> ...` on stderr, or to `herd start` over IPC) and the process exits with code 1.
 */
export async function serve(options: ServeOptions): Promise<void> {
  // Under `herd start`, the supervisor says where the neighbours are, at once for a restart: kept
  // from the first moment, used once the peer port listens.
  const supervised = typeof process.send === 'function';
  let peersMessage: PeersMessage | undefined;
  let onPeers = (message: PeersMessage): void => void (peersMessage = message);
  if (supervised) {
    process.on('message', (message) => {
      if (isPeersMessage(message)) onPeers(message);
    });
  }

  const config = loadHerdConfig(options.configFile);
  const serverConfig = config.servers.find((server) => server.name === options.name);
  if (serverConfig === undefined) {
    throw new UsageError(
      `no server "${options.name}" in ${options.configFile} (servers are ${config.servers.map((s) => s.name).join(', ')})`,
    );
  }
  if (options.placesData !== undefined) config.places.data = path.resolve(options.placesData);
  const placesSettings = resolvePlacesSettings(config.places, process.env, options.places);
  assertPlacesDataReadable(placesSettings);
  const secret = loadHerdSecret(config.secretFile);
  const tls = config.tls === undefined ? undefined : loadTlsOptions(config.tls, options.configFile);
  // Checked before anything listens or logs: a refused admin port stops the server with exit code 2.
  const adminPort = options.adminPort ?? serverConfig.adminPort;
  const adminTokens = loadAdminTokens(config.admin);
  if (adminPort !== undefined) assertAdminPortsAllowed(config, options.configFile, [serverConfig.name], adminTokens);
  const log = openServerLog(options.logDir ?? config.logDir, serverConfig.name, config.logLevel);
  const neighbours = neighboursOf(config, serverConfig.name);
  // Dialled as soon as the peer port listens: the config's addresses, and what the supervisor knows.
  const peerAddresses = new Map<string, PeerAddress>();
  for (const server of config.servers) {
    if (neighbours.includes(server.name) && server.peerPort !== 0)
      peerAddresses.set(server.name, { host: server.peerHost, port: server.peerPort });
  }
  if (supervised) {
    for (const [name, address] of Object.entries(peerAddressesFromEnv()))
      if (neighbours.includes(name)) peerAddresses.set(name, address);
  }
  // At the first start of a herd (JOIN_ENV) the links are dialled once every server listens
  // (./serve-admin.ts linksHeldUntil): dialled earlier, they take the cores the others need to start.
  const firstStart = supervised && process.env[JOIN_ENV] === '0';
  let linksHeld = firstStart;
  const places = await openPlacesProvider(placesSettings, log.logger);
  // Place data is loaded before listening, so that the first WHATSAT is answered at once; its reads
  // run on libuv's threads while this one opens the store.
  let stopping = false;
  const placesReady = preparePlaces(places, log.logger, () => stopping);
  // The durable store gives this start its epoch (incarnation); its rows are restored after listening.
  let opened: OpenedLog | undefined;
  let table: RestoringStore | undefined;
  if (config.store.durable) {
    opened = openSqliteLog({
      file: path.join(options.dataDir ?? config.dataDir, `${serverConfig.name}.sqlite`),
      commitIntervalMs: config.store.commitIntervalMs,
      logger: log.logger,
    });
    table = new RestoringStore();
  }
  // Metrics only where an admin server will serve them (docs/observability.md).
  const metrics =
    adminPort === undefined
      ? undefined
      : new MetricsObserver({ serverName: serverConfig.name, onLoopBlock: loopBlockLog(log.logger) });
  // The dashboard (docs/observability.md "Dashboard") is loaded after listening; it notes nothing
  // before a page is open, so its hooks join the observer then.
  const dashboardHooks = new LateHooks();
  const server = new HerdServer({
    name: serverConfig.name,
    host: serverConfig.host,
    port: options.port ?? serverConfig.port,
    peerHost: serverConfig.peerHost,
    peerPort: options.peerPort ?? serverConfig.peerPort,
    neighbours,
    herdLinks: config.links,
    peerAddresses: linksHeld ? undefined : peerAddresses,
    places,
    logger: log.logger,
    limits: config.limits,
    // Started with the whole herd by `herd start`: nobody to wait for (JOIN_ENV).
    links: firstStart ? { ...config.peer, joinTimeoutMs: 0 } : config.peer,
    incarnation: opened === undefined ? undefined : `${opened.epoch}.${Date.now()}`,
    store: table,
    persistence: opened?.log,
    syncCommit: config.store.sync,
    secret,
    tls,
    observer: metrics === undefined ? undefined : composeObservers(metrics, dashboardHooks),
  });
  metrics?.attach(server);
  if (secret === undefined) {
    log.logger.warn(
      { event: 'no-herd-secret' },
      'no herd secret (HERD_SECRET, HERD_SECRET_FILE or secretFile): links are NOT authenticated; development mode',
    );
  }

  let adminListener: AdminListener | undefined;
  let admin: AdminServer | undefined;
  let dashboard: Dashboard | undefined;
  const stop = async (why: string, code: number): Promise<void> => {
    if (stopping) {
      // A second signal: leave at once.
      log.flushSync();
      process.exit(1);
    }
    stopping = true;
    log.logger.info({ event: 'shutdown', why }, `stopping (${why})`);
    dashboard?.close();
    metrics?.close();
    await server.close();
    // Closed after the herd server: while it drains, /healthz answers 503 "stopping".
    await admin?.close();
    await adminListener?.close();
    table?.stop();
    opened?.log.close();
    await places.close?.();
    log.flushSync();
    process.exit(code);
  };
  // A start that cannot complete (a port taken): one line for the user, then a clean exit 1.
  const fail = async (error: HerdError): Promise<void> => {
    log.logger.fatal({ event: 'start-failed', code: error.code, reason: error.message }, error.message);
    await reportStartFailure(error.message, serverConfig.name);
    await stop('start failed', 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  // Log rotation (docs/deploy.md): the rotated file is renamed away, and SIGHUP opens a new one.
  process.on('SIGHUP', () => {
    log.reopen();
    log.logger.info({ event: 'log-reopened', file: log.file }, `log file reopened (SIGHUP): ${log.file}`);
  });
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('uncaughtException', (error) => {
    log.logger.fatal({ event: 'crash', err: sourceStack(error) }, 'uncaught exception');
    try {
      table?.stop();
      opened?.log.close();
    } catch {
      // Already failing: the peers hold the data and will catch this server up.
    }
    log.flushSync();
    process.exit(1);
  });

  await placesReady;
  if (stopping) return;
  // Bound with the other ports, so that one in use stops the server before anything listens; served
  // once the admin parts are loaded (./serve-admin.ts).
  if (adminPort !== undefined) {
    try {
      adminListener = await AdminListener.bind(serverConfig.adminHost, adminPort);
    } catch (error) {
      await fail(
        portError('admin', serverConfig.adminHost, adminPort, (error as Error).cause ?? error, options.configFile),
      );
      return;
    }
    if (stopping) return;
  }
  // The rows come in slices from the next turn on, while the ports open and the links come up.
  if (opened !== undefined) void table?.restore(opened.rows, { logger: log.logger });
  let listening: Awaited<ReturnType<HerdServer['listen']>>;
  try {
    listening = await server.listen();
  } catch (error) {
    // A SIGTERM while the links were joining closed the server: a stop, not a failed start.
    if (stopping) return;
    const peerPort = options.peerPort ?? serverConfig.peerPort;
    const failed = (error as { port?: unknown }).port;
    await fail(
      failed === peerPort && peerPort !== 0
        ? portError('peer', serverConfig.peerHost, peerPort, error, options.configFile)
        : portError('client', serverConfig.host, options.port ?? serverConfig.port, error, options.configFile),
    );
    return;
  }
  const { client: address, peer: peerAddress } = listening;
  const startupDelay = watchStartupDelay();
  // Under `herd start`: settled once the supervisor names every server of the herd (they all listen).
  let herdNamed = (): void => undefined;
  const herdListens = supervised ? new Promise<void>((resolve) => (herdNamed = resolve)) : undefined;
  if (supervised) {
    onPeers = (message) => {
      peersMessage = message;
      for (const [peerName, peerAddress] of Object.entries(message.addresses))
        if (!linksHeld) server.setPeerAddress(peerName, peerAddress);
        else if (neighbours.includes(peerName)) peerAddresses.set(peerName, peerAddress);
      if (message.adminUrls !== undefined) dashboard?.setAdminUrls(message.adminUrls);
      if (namesEveryServer(message, config)) herdNamed();
    };
    if (peersMessage !== undefined) onPeers(peersMessage);
    if (linksHeld)
      void linksHeldUntil(herdListens).then(() => {
        linksHeld = false;
        if (!stopping)
          for (const [peerName, peerAddress] of peerAddresses) server.setPeerAddress(peerName, peerAddress);
      });
    // The supervisor is gone (killed or crashed): do not linger as an orphan.
    process.on('disconnect', () => void stop('supervisor gone', 0));
    const message: ListeningMessage = {
      type: 'listening',
      name: server.name,
      host: address.address,
      port: address.port,
      peerHost: peerAddress.address,
      peerPort: peerAddress.port,
      pid: process.pid,
      logFile: log.file,
      adminUrl: adminListener?.url,
    };
    sendQuietly(process, message);
  } else {
    const adminNote =
      adminListener === undefined ? '' : `; admin ${adminListener.url}, dashboard ${adminListener.url}/`;
    process.stdout.write(
      `${server.name} listening on ${address.address}:${address.port}, peer port ${peerAddress.address}:${peerAddress.port} (log ${log.file}${adminNote}); Ctrl-C stops it\n`,
    );
  }
  for (const name of neighbours) {
    if (!peerAddresses.has(name) && !supervised) {
      log.logger.error(
        { event: 'no-peer-address', peer: name },
        `neighbour ${name} has peer port 0 in the config and no supervisor will say where it is; not dialling it`,
      );
    }
  }
  // Accepting means answering: report how long the loop was ever blocked just after listening.
  void startupDelay.then((delay) => {
    metrics?.startupDelay(delay);
    log.logger[delay.maxMs > LOOP_BLOCK_MS ? 'warn' : 'info'](
      { event: 'startup-delay', maxMs: delay.maxMs, p99Ms: delay.p99Ms, windowMs: delay.windowMs },
      `event loop delay in the first ${delay.windowMs} ms after listening: max ${delay.maxMs} ms`,
    );
  });

  // What accepting does not need: the store's writer thread (unless a commit came first), then the
  // admin parts, once the herd listens (./serve-admin.ts).
  await deferredStart(herdListens);
  if (stopping) return;
  opened?.log.startWriter();
  if (adminListener === undefined || metrics === undefined) return;
  try {
    ({ admin, dashboard } = await startAdmin({
      config,
      serverConfig,
      server,
      listener: adminListener,
      metrics,
      dashboardHooks,
      tokens: adminTokens,
      logger: log.logger,
      healthy: () => !stopping,
      adminUrls: () => peersMessage?.adminUrls,
    }));
  } catch (error) {
    if (stopping) return;
    // The port is bound already, so taking it over fails only in odd cases; anything else (a module
    // that does not load, the dashboard) is said as what it is, not as a port in use.
    await fail(
      error instanceof HerdError && error.code === 'HERD_ADMIN_LISTEN'
        ? portError('admin', serverConfig.adminHost, adminPort ?? 0, error.cause ?? error, options.configFile)
        : new HerdError('HERD_ADMIN_START', `the admin server did not start: ${(error as Error).message}`, {
            cause: error,
          }),
    );
  }
}
