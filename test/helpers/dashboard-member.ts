/**
 * One in-process herd member with metrics and a dashboard on its admin port, on 127.0.0.1 port 0;
 * the dashboard's timers move by hand and its places come from a scripted source. The dashboard and
 * admin-port tests share it.
 */
import { AdminServer, type AdminServerOptions } from '../../src/observability/admin-server.js';
import { MetricsObserver } from '../../src/observability/metrics.js';
import { composeObservers } from '../../src/observability/observer.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { Dashboard } from '../../src/dashboard/dashboard.js';
import type { DashboardSettings } from '../../src/dashboard/settings.js';
import { ManualTimers } from './manual-timers.js';
import { capturingLogger, type LogEntry } from './capture-log.js';
import { ScriptedPlaces, soloOptions } from './one-server.js';

export interface Member {
  readonly server: HerdServer;
  readonly dashboard: Dashboard;
  readonly timers: ManualTimers;
  readonly places: ScriptedPlaces;
  readonly port: number;
  readonly url: string;
  readonly log: () => LogEntry[];
  close(): Promise<void>;
}

/**
 * Starts a member.
 *
 * @param settings - the dashboard's settings.
 * @param admin - more options of its admin server (tokens, a status to serve instead of the server's own).
 */
export async function startMember(
  settings: Partial<DashboardSettings> = {},
  admin: (server: HerdServer) => Partial<AdminServerOptions> = () => ({}),
): Promise<Member> {
  const timers = new ManualTimers();
  const places = new ScriptedPlaces();
  const { logger, events } = capturingLogger();
  const metrics = new MetricsObserver({ serverName: 'Solo', defaultMetrics: false });
  const dashboard = new Dashboard({
    herd: {
      self: 'Solo',
      servers: [
        { name: 'Solo', location: { latitude: 34.07, longitude: -118.44 }, adminUrl: undefined, external: false },
      ],
      links: [],
    },
    counters: () => metrics.counters(),
    settings,
    logger,
    timers,
  });
  const server = new HerdServer(soloOptions({ places, observer: composeObservers(metrics, dashboard.observer) }));
  metrics.attach(server);
  dashboard.attach(server);
  const { client } = await server.listen();
  const adminServer = new AdminServer({
    status: () => server.status(),
    metrics,
    routes: dashboard,
    logger,
    ...admin(server),
  });
  await adminServer.listen();
  return {
    server,
    dashboard,
    timers,
    places,
    port: client.port,
    url: adminServer.url as string,
    log: events,
    close: async () => {
      dashboard.close();
      await server.close();
      await adminServer.close();
    },
  };
}
