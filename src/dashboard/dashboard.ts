/**
 * The dashboard of one server (docs/observability.md "Dashboard"): the page and its API on
 * the admin port. Read-only: no route changes the herd's state.
 *
 * | route                        | what                                                                  |
 * | ---------------------------- | --------------------------------------------------------------------- |
 * | `/`                          | the page (web/dashboard/index.html); `/?live=0` renders once           |
 * | `/dashboard/...`             | its scripts and styles, Leaflet's own files, the country outlines      |
 * | `/herd`                      | the members, their locations, the links, each member's status row      |
 * | `/clients?bbox=&limit=`      | the first paint: points, or a density grid above `limit` ({@link SnapshotScanner}) |
 * | `/client?id=&radius=&limit=` | one client's AT line and the places a WHATSAT would answer ({@link ClientLookups}) |
 * | `/events`                    | server-sent events: `checkin`, `link`, `server` ({@link EventStreams}) |
 *
 * Check-ins come from the server's {@link ServerObserver.stored} hook through a {@link CheckinFeed};
 * everything but noting the record happens on the flush timer.
 */
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import type { ServerStatus } from '../core/status.js';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';
import { DashboardBusyError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';
import type { RouteAccess } from '../observability/admin-auth.js';
import { MAX_BOUND, MAX_RADIUS_KM } from '../protocol/commands.js';
import { ClientLookups, type LookupServer } from './client-lookups.js';
import { EventStreams, sseMessage } from './event-stream.js';
import { CheckinFeed } from './feed.js';
import { HerdPoller, type HerdCounters, type HerdDescription, type ServerRow } from './herd-view.js';
import {
  API_ROUTES,
  CONTENT_TYPES,
  hostAllowed,
  hostName,
  routeAccess,
  sendResponse,
  staticFiles,
  type StaticFile,
} from './http.js';
import { resolveDashboardSettings, type DashboardSettings } from './settings.js';
import { SnapshotScanner, parseSnapshotQuery, type ScannableStore } from './snapshot.js';

export { CONTENT_SECURITY_POLICY } from './http.js';

/** What the dashboard needs of its server ({@link HerdServer} fits). */
export interface DashboardServer extends LookupServer {
  readonly name: string;
  /** The location table; client ids and AT lines are binary strings (src/protocol/bytes.ts). */
  readonly store: ScannableStore & LookupServer['store'];
  status(): ServerStatus;
}

/** Options of {@link Dashboard}. */
export interface DashboardOptions {
  readonly herd: HerdDescription;
  /** This server's own counters, for its IAMAT/s and floods/s (read in memory, not through `/metrics`). */
  readonly counters?: () => HerdCounters;
  /** What is left out takes its default (src/dashboard/settings.ts). */
  readonly settings?: Partial<DashboardSettings>;
  readonly logger: Logger;
  /** @default {@link SYSTEM_TIMERS} */
  readonly timers?: Timers;
  /**
   * The `Authorization` header the herd view sends to the other members' admin ports (the herd's
   * admin token: src/observability/admin-auth.ts `clientAuthorization`). @default none
   */
  readonly authorization?: string;
}

interface Attached {
  readonly server: DashboardServer;
  readonly poller: HerdPoller;
  readonly scanner: SnapshotScanner;
}

/** The dashboard routes of one server's admin port. */
export class Dashboard {
  readonly settings: Readonly<DashboardSettings>;
  /** Hooks to compose into the server's observer (src/observability/observer.ts `composeObservers`). */
  readonly observer: Pick<ServerObserver, 'stored' | 'linkStatus'>;
  private readonly options: DashboardOptions;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly streams: EventStreams;
  private readonly feed: CheckinFeed;
  private readonly files = staticFiles();
  private attached: Attached | undefined;
  private flushTimer: TimerHandle | undefined;
  private serverTimer: TimerHandle | undefined;
  private readonly lookups: ClientLookups;

  constructor(options: DashboardOptions) {
    this.options = options;
    this.settings = resolveDashboardSettings(options.settings);
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.log = options.logger;
    this.feed = new CheckinFeed(this.settings.maxBufferedCheckins, this.settings.maxCheckinsPerFlush);
    this.observer = this.feed.observer;
    this.lookups = new ClientLookups(this.settings.maxLookupsInFlight, this.log);
    this.streams = new EventStreams({
      settings: this.settings,
      timers: this.timers,
      logger: this.log,
      onActive: () => this.start(),
      onIdle: () => this.stop(),
    });
  }

  /**
   * Connects the dashboard to its server (which is created with {@link observer} among its hooks,
   * hence after the dashboard). Its routes answer 503 until then.
   */
  attach(server: DashboardServer): void {
    const counters = this.options.counters;
    const poller = new HerdPoller(
      this.options.herd,
      { read: async () => ({ status: server.status(), counters: counters?.() }) },
      this.settings.pollTimeoutMs,
      this.options.authorization,
    );
    const scanner = new SnapshotScanner({
      store: server.store,
      sliceMs: this.settings.snapshotSliceMs,
      maxRequests: this.settings.maxSnapshotRequests,
    });
    this.attached = { server, poller, scanner };
  }

  /** Open `/events` streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Tells the dashboard where members' admin servers really listen (from `herd start`). */
  setAdminUrls(urls: Readonly<Record<string, string>>): void {
    for (const member of this.options.herd.servers) {
      const url = urls[member.name];
      if (url !== undefined) member.adminUrl = url;
    }
  }

  /** Ends every stream and stops the timers. */
  close(): void {
    this.streams.close();
    this.stop();
  }

  /** What a dashboard route shows, and so which token reads it (src/dashboard/http.ts `routeAccess`). */
  routeAccess(pathname: string): RouteAccess | undefined {
    return routeAccess(pathname, this.files);
  }

  /**
   * Answers a dashboard route (a GET or HEAD).
   *
   * @returns false when `pathname` is not one (the admin server answers it).
   */
  handle(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    pathname: string,
    query: URLSearchParams,
  ): boolean {
    const file = this.files.get(pathname);
    if (file === undefined && !API_ROUTES.has(pathname)) return false;
    const head = request.method === 'HEAD';
    const host = hostName(request.headers.host);
    if (!hostAllowed(host, this.settings.allowedHosts)) {
      this.log.warn(
        { event: 'dashboard-host-refused', host, path: pathname },
        `dashboard request for host "${host}" refused (not an address of this server; dashboard.allowedHosts)`,
      );
      const body = `this dashboard answers requests for its IP addresses and localhost; add "${host}" to dashboard.allowedHosts to use that name\n`;
      sendResponse(response, 421, CONTENT_TYPES.text, body, head);
      return true;
    }
    const attached = this.attached;
    if (attached === undefined) {
      sendResponse(response, 503, CONTENT_TYPES.text, 'starting\n', head);
      return true;
    }
    switch (pathname) {
      case '/events':
        if (head) sendResponse(response, 200, CONTENT_TYPES.events, '', true);
        else this.streams.open(request, response, this.initialEvents(attached));
        return true;
      case '/herd':
        this.herdJson(attached).then(
          (body) => sendResponse(response, 200, CONTENT_TYPES.json, body, head),
          (error: unknown) => this.fail(response, pathname, error, head),
        );
        return true;
      case '/clients':
        this.clients(attached, response, query, head);
        return true;
      case '/client':
        this.client(attached, response, query, head);
        return true;
      default:
        break;
    }
    const { body, file: where, type } = file as StaticFile;
    if (body !== undefined || where === undefined) sendResponse(response, 200, type, body ?? '', head);
    else
      readFile(where()).then(
        (contents) => sendResponse(response, 200, type, contents, head),
        (error: unknown) => this.fail(response, pathname, error, head),
      );
    return true;
  }

  private sendJson(response: http.ServerResponse, status: number, value: unknown, head: boolean): void {
    sendResponse(response, status, CONTENT_TYPES.json, `${JSON.stringify(value)}\n`, head);
  }

  private fail(response: http.ServerResponse, pathname: string, error: unknown, head: boolean): void {
    this.log.error({ event: 'dashboard-failed', path: pathname, err: String(error) }, `dashboard ${pathname} failed`);
    if (!response.headersSent) sendResponse(response, 500, CONTENT_TYPES.text, 'internal error\n', head);
    else response.destroy();
  }

  private initialEvents(attached: Attached): string[] {
    return attached.poller.rows.length === 0 ? [] : [this.serverEvent(attached.poller.rows)];
  }

  private serverEvent(rows: readonly ServerRow[]): string {
    return sseMessage('server', { server: this.options.herd.self, rows });
  }

  private async herdJson(attached: Attached): Promise<string> {
    const rows = attached.poller.rows.length === 0 ? await attached.poller.poll() : attached.poller.rows;
    const { herd } = this.options;
    return `${JSON.stringify({
      self: herd.self,
      placesSource: attached.server.status().placesSource,
      servers: herd.servers.map((member) => ({
        name: member.name,
        location:
          member.location === undefined ? null : { lat: member.location.latitude, lng: member.location.longitude },
        dashboardUrl: member.adminUrl === undefined ? null : `${member.adminUrl}/`,
        external: member.external,
      })),
      links: herd.links,
      rows,
      limits: {
        maxSnapshotPoints: this.settings.maxSnapshotPoints,
        maxSnapshotCells: this.settings.maxSnapshotCells,
        maxRadiusKm: MAX_RADIUS_KM,
        maxPlaces: MAX_BOUND,
      },
    })}\n`;
  }

  private clients(attached: Attached, response: http.ServerResponse, params: URLSearchParams, head: boolean): void {
    const query = parseSnapshotQuery(params, {
      maxPoints: this.settings.maxSnapshotPoints,
      maxCells: this.settings.maxSnapshotCells,
    });
    if (typeof query === 'string') {
      this.sendJson(response, 400, { error: query }, head);
      return;
    }
    attached.scanner.request(query).then(
      (result) => this.sendJson(response, 200, result, head),
      (error: unknown) => {
        if (error instanceof DashboardBusyError) {
          this.log.warn({ event: 'dashboard-busy', what: 'snapshot' }, `dashboard snapshot refused: ${error.message}`);
          this.sendJson(response, 503, { error: `busy: ${error.message} (dashboard.maxSnapshotRequests)` }, head);
        } else this.fail(response, '/clients', error, head);
      },
    );
  }

  /** `/client`: the client view ({@link ClientLookups}). */
  private client(attached: Attached, response: http.ServerResponse, params: URLSearchParams, head: boolean): void {
    this.lookups.answer(attached.server, params).then(
      ({ status, value }) => this.sendJson(response, status, value, head),
      (error: unknown) => this.fail(response, '/client', error, head),
    );
  }

  private start(): void {
    if (this.feed.active) return;
    this.feed.active = true;
    this.scheduleFlush();
    this.pollServers();
  }

  private stop(): void {
    this.feed.clear();
    this.timers.clearTimeout(this.flushTimer);
    this.timers.clearTimeout(this.serverTimer);
    this.flushTimer = undefined;
    this.serverTimer = undefined;
  }

  private scheduleFlush(): void {
    this.flushTimer = this.timers.setTimeout(() => {
      this.flushTimer = undefined;
      const attached = this.attached;
      if (!this.feed.active || attached === undefined) return;
      this.streams.broadcast(this.feed.take(attached.server.name, () => attached.server.status().links));
      if (this.feed.active) this.scheduleFlush();
    }, this.settings.flushIntervalMs);
  }

  private pollServers(): void {
    const attached = this.attached;
    if (attached === undefined) return;
    void attached.poller.poll().then((rows) => {
      if (!this.feed.active) return;
      this.streams.broadcast(this.serverEvent(rows));
      this.timers.clearTimeout(this.serverTimer);
      this.serverTimer = this.timers.setTimeout(() => this.pollServers(), this.settings.serverIntervalMs);
    });
  }
}
