/**
 * The admin part of `herd serve` (./serve.ts): what a server does not need to accept, loaded after
 * it listens. Its admin port is bound with the client and peer ports (src/observability/admin-listener.ts:
 * a port in use is refused before anything listens, and a request that comes early waits); prom-client,
 * the admin HTTP server, the dashboard and the store's writer thread come once the herd listens, so
 * that servers started together by `herd start` do not spend the CPU they share on them while the
 * others are still starting (docs/operations.md "Start-up").
 */
import type { HerdConfig, ServerConfig } from '../config/herd-config.js';
import type { Dashboard } from '../dashboard/dashboard.js';
import type { AdminListener } from '../observability/admin-listener.js';
import type { AdminServer } from '../observability/admin-server.js';
import { clientAuthorization, type AdminTokens } from '../observability/admin-auth.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsObserver } from '../observability/metrics.js';
import type { LateHooks } from '../observability/observer.js';
import type { HerdServer } from '../server/herd-server.js';
import { nextTurn } from '../core/timers.js';
import type { PeersMessage } from './ipc.js';

/**
 * How long after listening the admin parts start to load, at the least, ms. The bundle evaluates a
 * module imported on demand in one block (build/bundle.ts), some 30 ms for these: loaded at once,
 * they held up the clients that connected the instant the port opened.
 */
export const ADMIN_LOAD_DELAY_MS = 50;

/**
 * Under `herd start`, the longest a server waits after listening for the supervisor to name every
 * server of the herd (a peers message: they all listen) before it loads its admin parts and starts
 * its store's writer thread anyway, and at a herd's first start before it dials its links anyway
 * ({@link linksHeldUntil}), ms.
 */
export const HERD_LISTENS_WAIT_MS = 2_000;

/**
 * Under `herd start`, how long after the whole herd listens a server waits before it loads its admin
 * parts, ms. Its links are dialled at that moment ({@link linksHeldUntil}); their handshakes and
 * first anti-entropy take some 150 ms on two cores. Loading prom-client, the admin server and the
 * dashboard meanwhile, five servers at once, made the links' turns 21-86 ms long at every herd start
 * (`loop-blocked` warnings; docs/operations.md "Event-loop blocks").
 */
export const ADMIN_AFTER_HERD_LISTENS_MS = 500;

/** Resolves after `ms` (a timer that does not keep the process alive). */
const after = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Whether `message` gives an address for every server of `config`: the whole herd listens. */
export function namesEveryServer(message: PeersMessage, config: HerdConfig): boolean {
  return config.servers.every((server) => message.addresses[server.name] !== undefined);
}

/**
 * Resolves when a server started with the whole herd (`herd start`'s first start, JOIN_ENV) dials its
 * neighbours: once `herdListens` resolved (every server listens), or after {@link HERD_LISTENS_WAIT_MS}
 * at the latest. Until then none has a neighbour to catch up from, and the links' handshakes would
 * take the cores the servers still starting need, measured in docs/benchmarks.md
 * "Start-up: the whole herd beside its own floor, its timeline, links dialled once the herd listens".
 */
export async function linksHeldUntil(herdListens: Promise<void> | undefined): Promise<void> {
  await Promise.race([herdListens ?? Promise.resolve(), after(HERD_LISTENS_WAIT_MS)]);
}

/**
 * Resolves when the deferred work of a server that has just listened may start: after
 * {@link ADMIN_LOAD_DELAY_MS}, and under a supervisor {@link ADMIN_AFTER_HERD_LISTENS_MS} after
 * `herdListens` resolved too, or after {@link HERD_LISTENS_WAIT_MS} at the latest.
 */
export async function deferredStart(herdListens: Promise<void> | undefined): Promise<void> {
  const waits = [after(ADMIN_LOAD_DELAY_MS)];
  if (herdListens !== undefined) {
    const linksSettled = herdListens.then(() => after(ADMIN_AFTER_HERD_LISTENS_MS));
    waits.push(Promise.race([linksSettled, after(HERD_LISTENS_WAIT_MS)]));
  }
  await Promise.all(waits);
}

/** What {@link startAdmin} needs of the server it serves. */
export interface AdminStart {
  readonly config: HerdConfig;
  readonly serverConfig: ServerConfig;
  readonly server: HerdServer;
  /** The admin port bound before listening; taken over here. */
  readonly listener: AdminListener;
  readonly metrics: MetricsObserver;
  /** The observer's slot for the dashboard's hooks. */
  readonly dashboardHooks: LateHooks;
  readonly tokens: AdminTokens;
  readonly logger: Logger;
  /** False once the server stops (`/healthz` says `stopping`). */
  readonly healthy: () => boolean;
  /** The servers' admin URLs known so far (from the supervisor's last peers message). */
  readonly adminUrls: () => Record<string, string> | undefined;
}

/**
 * Loads prom-client (the hooks counted from the start; the series read the counts when scraped),
 * the admin server and the dashboard, a module per turn of the event loop (each over 20 ms of wall
 * time in one turn when five servers of a herd did it at once on two cores, docs/operations.md
 * "Event-loop blocks"), and serves the admin port.
 *
 * @returns the admin server, listening, and the dashboard attached to the server.
 * @throws {HerdError} `HERD_ADMIN_LISTEN` when the port cannot be taken over (not expected: it is bound).
 */
export async function startAdmin(start: AdminStart): Promise<{ admin: AdminServer; dashboard: Dashboard }> {
  const { config, serverConfig, server, metrics } = start;
  // Not in the turn that starts the store's writer thread (./serve.ts).
  await nextTurn();
  await metrics.prepare();
  await nextTurn();
  const { AdminServer } = await import('../observability/admin-server.js');
  await nextTurn();
  const { Dashboard } = await import('../dashboard/dashboard.js');
  await nextTurn();
  const { describeHerd } = await import('../dashboard/herd-view.js');
  const herdView = describeHerd(config, serverConfig.name);
  const dashboard = new Dashboard({
    herd: herdView,
    counters: () => metrics.counters(),
    settings: config.dashboard,
    logger: start.logger,
    authorization: clientAuthorization(start.tokens),
  });
  dashboard.attach(server);
  start.dashboardHooks.target = dashboard.observer;
  const adminUrls = start.adminUrls();
  if (adminUrls !== undefined) dashboard.setAdminUrls(adminUrls);
  const admin = new AdminServer({
    listener: start.listener,
    status: () => server.status(),
    metrics,
    healthy: start.healthy,
    tokens: start.tokens,
    logger: start.logger,
    routes: dashboard,
  });
  await admin.listen();
  const self = herdView.servers.find((member) => member.name === server.name);
  if (self !== undefined) self.adminUrl = admin.url;
  start.logger.info({ event: 'admin-listening', url: admin.url }, `admin server on ${admin.url}`);
  return { admin, dashboard };
}
