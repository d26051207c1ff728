/**
 * `herd status`: one table for the whole herd (docs/observability.md "herd status"), read from every
 * server's admin `/status` with a short time-out, so a server that does not answer is
 * shown as down and the command never hangs. Addresses come from the runtime file of a running
 * `herd start` when there is one for this config (ports may be 0 in the config), else from the config.
 */
import net from 'node:net';
import path from 'node:path';
import { loadHerdConfig } from '../config/herd-config.js';
import { httpGet } from '../observability/admin-client.js';
import { httpUrl } from '../core/hosts.js';
import { HERD_ADMIN_TOKEN_ENV, clientAuthorization, loadAdminTokens } from '../observability/admin-auth.js';
import { isServerStatus, type ServerStatus } from '../core/status.js';
import { STATUS_TIMEOUT_MS } from './defaults.js';
import { commandHint, countServers } from './wording.js';
import { readRuntimeFile, runtimeFilePath } from './runtime-file.js';

/** Options of {@link herdStatus} and {@link collectHerdStatus}. */
export interface StatusOptions {
  /** The herd config file. */
  readonly configFile: string;
  /** Where `herd start` was told to put logs (and so the runtime file). @default the config's `logDir` */
  readonly logDir?: string;
  /** Longest wait for each request to a server, ms. @default {@link STATUS_TIMEOUT_MS} */
  readonly timeoutMs?: number;
  /** Print JSON (the {@link HerdStatusReport}) instead of the table. @default false */
  readonly json?: boolean;
  /** Where output lines go. @default stdout */
  readonly print?: (line: string) => void;
  /** Where the line saying no herd is running goes. @default stderr */
  readonly warn?: (line: string) => void;
}

/**
 * What `herd status` learned about one server. `state` is `up` when its admin `/status` answered
 * (or, without an admin URL, its client port accepted a connection), `down` when it did not within
 * the time-out, and `unknown` when there is no address to ask or its admin port refused the token
 * (401 or 403).
 */
export interface ServerReport {
  readonly name: string;
  readonly state: 'up' | 'down' | 'unknown';
  /** Client address `host:port`, or undefined when unknown (port 0 and no runtime file). */
  readonly address: string | undefined;
  /** Peer address `host:port` (where neighbours dial), or undefined when unknown. */
  readonly peerAddress: string | undefined;
  /** Admin base URL `http://host:port`, or undefined when the server has none (or it is unknown). */
  readonly adminUrl: string | undefined;
  /** Its dashboard page, the admin URL + `/` (docs/observability.md "Dashboard"); undefined without an admin URL. */
  readonly dashboardUrl: string | undefined;
  /** Process id from the runtime file. */
  readonly pid: number | undefined;
  /** Not started by `herd start` (config `external`). */
  readonly external: boolean;
  /** The `/status` snapshot, when the admin server answered. */
  readonly status: ServerStatus | undefined;
  /**
   * Event-loop delay p99 since the last `/metrics` scrape, ms, with the monitor's own sampling period
   * taken off (`/status`'s `load.loopDelayP99Ms`); undefined when `/status` has no `load`.
   */
  readonly lagP99Ms: number | undefined;
  /** Why the server counts as down (e.g. `ECONNREFUSED`, `timed out after 1000 ms`). */
  readonly error: string | undefined;
}

/** Everything {@link collectHerdStatus} returns: `{ configFile, runtimeFile, servers }`. */
export interface HerdStatusReport {
  /** Absolute path of the config. */
  readonly configFile: string;
  /** The runtime file the addresses came from, or undefined when they came from the config. */
  readonly runtimeFile: string | undefined;
  readonly servers: readonly ServerReport[];
}

/** Whether a TCP connection to `host:port` opens within `timeoutMs`; rejects with the reason. */
function tcpProbe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code ?? error.message)));
  });
}

async function probe(
  base: {
    name: string;
    address: string | undefined;
    peerAddress: string | undefined;
    host: string | undefined;
    port: number | undefined;
    adminUrl: string | undefined;
    pid: number | undefined;
    external: boolean;
  },
  timeoutMs: number,
  authorization: string | undefined,
): Promise<ServerReport> {
  const { host, port, ...rest } = base;
  const report = {
    ...rest,
    dashboardUrl: base.adminUrl === undefined ? undefined : `${base.adminUrl}/`,
    status: undefined,
    lagP99Ms: undefined,
    error: undefined,
  };
  if (base.adminUrl === undefined) {
    if (host === undefined || port === undefined)
      return { ...report, state: 'unknown', error: 'no address (port 0 and no runtime file)' };
    try {
      await tcpProbe(host, port, timeoutMs);
      return { ...report, state: 'up' };
    } catch (error) {
      return { ...report, state: 'down', error: (error as Error).message };
    }
  }
  let answer: Awaited<ReturnType<typeof httpGet>>;
  try {
    answer = await httpGet(`${base.adminUrl}/status`, timeoutMs, authorization);
  } catch (error) {
    return { ...report, state: 'down', error: (error as Error).message };
  }
  if (answer.status === 401 || answer.status === 403) {
    const which = authorization === undefined ? 'no admin token is set' : 'it refused this admin token';
    const error = `its admin port answered ${answer.status}: ${which} (${HERD_ADMIN_TOKEN_ENV}, or admin.tokenFile in the config)`;
    return { ...report, state: 'unknown', error };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    parsed = undefined;
  }
  if (answer.status !== 200 || !isServerStatus(parsed)) {
    return { ...report, state: 'down', error: `/status answered ${answer.status}` };
  }
  return { ...report, state: 'up', status: parsed, lagP99Ms: parsed.load?.loopDelayP99Ms };
}

/**
 * Asks every server of the herd how it is, all at once.
 *
 * @throws {ConfigError} for a bad config, or an admin token that cannot be read. Unreachable servers
 *   are reported, never thrown.
 */
export async function collectHerdStatus(options: StatusOptions): Promise<HerdStatusReport> {
  const configFile = path.resolve(options.configFile);
  const config = loadHerdConfig(configFile);
  const timeoutMs = options.timeoutMs ?? STATUS_TIMEOUT_MS;
  const file = runtimeFilePath(options.logDir ?? config.logDir);
  const runtime = readRuntimeFile(file, configFile);
  const authorization = clientAuthorization(loadAdminTokens(config.admin));
  const servers = await Promise.all(
    config.servers.map((server) => {
      const live = runtime?.servers[server.name];
      const port = live?.port ?? (server.port === 0 ? undefined : server.port);
      const peerPort = live?.peerPort ?? (server.peerPort === 0 ? undefined : server.peerPort);
      const configAdmin =
        server.adminPort === undefined || server.adminPort === 0
          ? undefined
          : httpUrl(server.adminHost, server.adminPort);
      return probe(
        {
          name: server.name,
          host: server.host,
          port,
          address: port === undefined ? undefined : `${server.host}:${port}`,
          peerAddress: peerPort === undefined ? undefined : `${server.peerHost}:${peerPort}`,
          // A server the runtime file lists without an admin URL has none.
          adminUrl: live === undefined ? configAdmin : live.adminUrl,
          pid: live?.pid,
          external: server.external,
        },
        timeoutMs,
        authorization,
      );
    }),
  );
  return { configFile, runtimeFile: runtime === undefined ? undefined : file, servers };
}

/**
 * The STORE cell: the store's state, with the rows waiting when there are any (`failing, 1200
 * pending`); `-` when down, or for a server too old to report its store.
 */
function formatStore(status: ServerStatus | undefined): string {
  const store = status?.store;
  if (store === undefined) return '-';
  return store.pendingRows > 0 ? `${store.state}, ${store.pendingRows} pending` : store.state;
}

function formatLag(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/**
 * The table `herd status` prints: a header, one row per server (SERVER, STATE, CLIENT PORT, PEER
 * PORT, LINKS as `peer:state,...`, CLIENTS, STORE, LAG p99, ADMIN, DASHBOARD; `-` where unknown), the
 * reasons of servers down and of stores not `ok`, and a summary line.
 */
export function formatStatusTable(report: HerdStatusReport): string[] {
  const rows = report.servers.map((server) => [
    server.name,
    server.state,
    server.address ?? '?',
    server.peerAddress ?? '?',
    server.status === undefined
      ? '-'
      : server.status.links.map((link) => `${link.peer}:${link.status}`).join(',') || '(none)',
    server.status === undefined ? '-' : String(server.status.clients),
    formatStore(server.status),
    formatLag(server.lagP99Ms),
    server.adminUrl ?? '-',
    server.dashboardUrl ?? '-',
  ]);
  const header = [
    'SERVER',
    'STATE',
    'CLIENT PORT',
    'PEER PORT',
    'LINKS',
    'CLIENTS',
    'STORE',
    'LAG p99',
    'ADMIN',
    'DASHBOARD',
  ];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const format = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const up = report.servers.filter((server) => server.state === 'up').length;
  const from = report.runtimeFile === undefined ? 'addresses from the config' : `addresses from ${report.runtimeFile}`;
  const lines = [`herd: status of ${report.configFile} (${from})`, format(header), ...rows.map(format)];
  for (const server of report.servers) {
    if (server.error !== undefined) lines.push(`  ${server.name}: ${server.error}`);
    const store = server.status?.store;
    if (store?.lastError !== undefined) lines.push(`  ${server.name}: store ${store.state}: ${store.lastError}`);
  }
  lines.push(`herd: ${up} of ${report.servers.length} servers up`);
  return lines;
}

/**
 * Whether nothing of the herd runs: no `herd start` of it (no runtime file) and not one of its servers
 * answers (an admin port that refused the token answered: it is `unknown` with an admin URL). Then
 * `herd status` says so in one line instead of a table of downs.
 */
export function noHerdRunning(report: HerdStatusReport): boolean {
  return (
    report.runtimeFile === undefined &&
    report.servers.every(
      (server) => server.state === 'down' || (server.state === 'unknown' && server.adminUrl === undefined),
    )
  );
}

/**
 * Prints the status of every server of a herd: the table, or (with no `herd start` of it and no
 * server answering) one line on stderr, `herd: no herd of <config> is running ...`.
 *
 * @returns the exit code: 0 when every server is up, 1 otherwise.
 * @throws {ConfigError} for a bad config.
 */
export async function herdStatus(options: StatusOptions): Promise<number> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const report = await collectHerdStatus(options);
  if (options.json !== true && noHerdRunning(report)) {
    warn(
      `herd: no herd of ${report.configFile} is running (no herd start of it, and none of its ${countServers(report.servers.length)} answers); ${commandHint('start', report.configFile)} starts it`,
    );
    return 1;
  }
  if (options.json === true) print(JSON.stringify(report, null, 2));
  else for (const line of formatStatusTable(report)) print(line);
  return report.servers.every((server) => server.state === 'up') ? 0 : 1;
}
