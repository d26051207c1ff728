/**
 * The dashboard of one server (issue 10; docs/observability.md "Dashboard"): the page and its API on
 * the admin port. Read-only: no route changes the herd's state.
 *
 * | route                        | what                                                                  |
 * | ---------------------------- | --------------------------------------------------------------------- |
 * | `/`                          | the page (web/dashboard/index.html); `/?live=0` renders once           |
 * | `/dashboard/...`             | its scripts and styles, Leaflet's own files, the country outlines      |
 * | `/herd`                      | the members, their locations, the links, each member's status row      |
 * | `/clients?bbox=&limit=`      | the first paint: points, or a density grid above `limit` ({@link SnapshotScanner}) |
 * | `/client?id=&radius=&limit=` | one client's AT line and the places a WHATSAT would answer            |
 * | `/events`                    | server-sent events: `checkin`, `link`, `server` ({@link EventStreams}) |
 *
 * Check-ins come from the server's {@link ServerObserver.stored} hook, which only puts the record in
 * a fixed buffer while a page is open; everything else (latest location per client, serializing,
 * writing) happens on the flush timer.
 */
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LinkState, ServerStatus } from '../core/status.js';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';
import type { NearbySearchResponse } from '../places/provider.js';
import { MAX_BOUND, MAX_RADIUS_KM } from '../protocol/commands.js';
import type { LocationRecord } from '../store/location-store.js';
import { EventStreams, sseMessage } from './event-stream.js';
import { HerdPoller, type HerdDescription, type ServerRow } from './herd-view.js';
import { resolveDashboardSettings, type DashboardSettings } from './settings.js';
import {
  SnapshotBusyError,
  SnapshotScanner,
  atLineServer,
  parseSnapshotQuery,
  type ScannableStore,
} from './snapshot.js';
import { worldCountriesJson } from './world.js';

/** The page's own files: `web/dashboard/` at the package root (beside `herds/`). */
export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dashboard');

/**
 * The Content-Security-Policy of every dashboard response: only this origin's own scripts, styles,
 * images and connections; no inline script or style, no plugins, no framing, no forms.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every dashboard response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const require = createRequire(import.meta.url);
const leafletDir = (): string => path.dirname(require.resolve('leaflet/dist/leaflet-src.esm.js'));

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const PNG = 'image/png';
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

/** Static files by URL path: where each is and its type. Nothing outside this list is served. */
function staticFiles(): Map<string, { file: () => string; type: string }> {
  const web = (name: string) => () => path.join(WEB_DIR, name);
  const leaflet = (name: string) => () => path.join(leafletDir(), name);
  const files = new Map<string, { file: () => string; type: string }>([
    ['/', { file: web('index.html'), type: 'text/html; charset=utf-8' }],
    ['/index.html', { file: web('index.html'), type: 'text/html; charset=utf-8' }],
    ['/dashboard/dashboard.css', { file: web('dashboard.css'), type: CSS }],
    ['/dashboard/vendor/leaflet/leaflet.js', { file: leaflet('leaflet-src.esm.js'), type: JS }],
    ['/dashboard/vendor/leaflet/leaflet.css', { file: leaflet('leaflet.css'), type: CSS }],
  ]);
  for (const module of ['dashboard.js', 'dom.js', 'map.js', 'topology.js', 'client-view.js'])
    files.set(`/dashboard/${module}`, { file: web(module), type: JS });
  for (const image of ['layers.png', 'layers-2x.png', 'marker-icon.png', 'marker-icon-2x.png', 'marker-shadow.png'])
    files.set(`/dashboard/vendor/leaflet/images/${image}`, { file: leaflet(path.join('images', image)), type: PNG });
  return files;
}

/** What the dashboard needs of its server ({@link HerdServer} fits). */
export interface DashboardServer {
  readonly name: string;
  readonly store: ScannableStore & { get(clientId: string): LocationRecord | undefined };
  status(): ServerStatus;
  lookUpPlaces(record: LocationRecord, radiusMeters: number, limit: number): Promise<NearbySearchResponse>;
}

/** Options of {@link Dashboard}. */
export interface DashboardOptions {
  readonly herd: HerdDescription;
  /** This server's metrics in Prometheus text, for its own IAMAT/s and floods/s. */
  readonly metrics?: () => Promise<string>;
  /** What is left out takes its default (src/dashboard/settings.ts). */
  readonly settings?: Partial<DashboardSettings>;
  readonly logger: Logger;
  /** @default {@link SYSTEM_TIMERS} */
  readonly timers?: Timers;
}

/** One check-in as a `checkin` event carries it. */
export interface Checkin {
  readonly id: string;
  readonly lat: number;
  readonly lng: number;
  /** The server whose AT line it is. */
  readonly server: string;
  /** The client's time from the AT line (POSIX seconds, as the client sent it). */
  readonly time: string;
}

function toCheckin(record: LocationRecord): Checkin {
  return {
    id: record.clientId,
    lat: record.latitude,
    lng: record.longitude,
    server: atLineServer(record.atLine),
    time: record.atLine.slice(record.atLine.lastIndexOf(' ') + 1),
  };
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
  private attached: { server: DashboardServer; poller: HerdPoller; scanner: SnapshotScanner } | undefined;
  private readonly files = staticFiles();
  /** Records stored since the last flush (only while a stream is open). */
  private readonly buffer: (LocationRecord | undefined)[];
  private buffered = 0;
  private overflow = 0;
  private readonly linkChanges = new Map<string, LinkState>();
  private active = false;
  private flushTimer: TimerHandle | undefined;
  private serverTimer: TimerHandle | undefined;
  private lookupsInFlight = 0;

  constructor(options: DashboardOptions) {
    this.options = options;
    this.settings = resolveDashboardSettings(options.settings);
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.log = options.logger;
    this.buffer = new Array<LocationRecord | undefined>(this.settings.maxBufferedCheckins);
    this.streams = new EventStreams({
      settings: this.settings,
      timers: this.timers,
      logger: this.log,
      onActive: () => this.start(),
      onIdle: () => this.stop(),
    });
    // The hot path: one comparison while no page is open, one array store while one is.
    this.observer = {
      stored: (record) => {
        if (!this.active) return;
        if (this.buffered < this.buffer.length) this.buffer[this.buffered++] = record;
        else this.overflow++;
      },
      linkStatus: (peer, status) => {
        if (this.active) this.linkChanges.set(peer, status);
      },
    };
  }

  /**
   * Connects the dashboard to its server (which is created with {@link observer} among its hooks,
   * hence after the dashboard). Routes answer 503 until then.
   */
  attach(server: DashboardServer): void {
    const metrics = this.options.metrics;
    const poller = new HerdPoller(
      this.options.herd,
      { status: async () => server.status(), metrics: async () => (metrics === undefined ? '' : metrics()) },
      this.settings.pollTimeoutMs,
    );
    const scanner = new SnapshotScanner({
      store: server.store,
      sliceMs: this.settings.snapshotSliceMs,
      maxRequests: this.settings.maxSnapshotRequests,
    });
    this.attached = { server, poller, scanner };
  }

  private get server(): DashboardServer {
    if (this.attached === undefined) throw new Error('dashboard used before attach()');
    return this.attached.server;
  }

  private get poller(): HerdPoller {
    if (this.attached === undefined) throw new Error('dashboard used before attach()');
    return this.attached.poller;
  }

  private get scanner(): SnapshotScanner {
    if (this.attached === undefined) throw new Error('dashboard used before attach()');
    return this.attached.scanner;
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

  /**
   * Answers a dashboard route.
   *
   * @returns false when `pathname` is not one (the admin server answers it).
   */
  handle(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    pathname: string,
    query: URLSearchParams,
  ): boolean {
    const head = request.method === 'HEAD';
    if (this.attached === undefined) {
      if (pathname !== '/events' && pathname !== '/herd' && pathname !== '/clients' && pathname !== '/client')
        if (!this.files.has(pathname) && pathname !== '/dashboard/countries.json') return false;
      this.send(response, 503, TEXT, 'starting\n', head);
      return true;
    }
    if (pathname === '/events') {
      if (head) this.send(response, 200, 'text/event-stream; charset=utf-8', '', true);
      else this.streams.open(request, response, this.initialEvents());
      return true;
    }
    if (pathname === '/herd') {
      void this.herdJson().then(
        (body) => this.send(response, 200, JSON_TYPE, body, head),
        (error: unknown) => this.fail(response, pathname, error, head),
      );
      return true;
    }
    if (pathname === '/clients') {
      this.clients(response, query, head);
      return true;
    }
    if (pathname === '/client') {
      this.client(response, query, head);
      return true;
    }
    if (pathname === '/dashboard/countries.json') {
      this.send(response, 200, JSON_TYPE, worldCountriesJson(), head);
      return true;
    }
    const file = this.files.get(pathname);
    if (file === undefined) return false;
    readFile(file.file()).then(
      (body) => this.send(response, 200, file.type, body, head),
      (error: unknown) => this.fail(response, pathname, error, head),
    );
    return true;
  }

  private send(
    response: http.ServerResponse,
    status: number,
    type: string,
    body: string | Buffer,
    head: boolean,
    headers: Record<string, string> = {},
  ): void {
    if (response.destroyed) return;
    response.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
      'Cache-Control': 'no-store',
      ...headers,
    });
    response.end(head ? undefined : body);
  }

  private sendJson(response: http.ServerResponse, status: number, value: unknown, head: boolean): void {
    this.send(response, status, JSON_TYPE, `${JSON.stringify(value)}\n`, head);
  }

  private fail(response: http.ServerResponse, pathname: string, error: unknown, head: boolean): void {
    this.log.error({ event: 'admin-failed', path: pathname, err: String(error) }, `admin ${pathname} failed`);
    if (!response.headersSent) this.send(response, 500, TEXT, 'internal error\n', head);
    else response.destroy();
  }

  private initialEvents(): string[] {
    return this.poller.rows.length === 0 ? [] : [this.serverEvent(this.poller.rows)];
  }

  private serverEvent(rows: readonly ServerRow[]): string {
    return sseMessage('server', { server: this.server.name, rows });
  }

  private async herdJson(): Promise<string> {
    const rows = this.poller.rows.length === 0 ? await this.poller.poll() : this.poller.rows;
    const { herd } = this.options;
    const status = this.server.status();
    return `${JSON.stringify({
      self: herd.self,
      placesSource: status.placesSource,
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
        flushIntervalMs: this.settings.flushIntervalMs,
        serverIntervalMs: this.settings.serverIntervalMs,
        maxRadiusKm: MAX_RADIUS_KM,
        maxPlaces: MAX_BOUND,
      },
    })}\n`;
  }

  private clients(response: http.ServerResponse, params: URLSearchParams, head: boolean): void {
    const query = parseSnapshotQuery(params, {
      maxPoints: this.settings.maxSnapshotPoints,
      maxCells: this.settings.maxSnapshotCells,
    });
    if (typeof query === 'string') {
      this.sendJson(response, 400, { error: query }, head);
      return;
    }
    this.scanner.request(query).then(
      (result) => this.sendJson(response, 200, result, head),
      (error: unknown) => {
        if (error instanceof SnapshotBusyError) {
          this.log.warn({ event: 'dashboard-busy', what: 'snapshot' }, `dashboard snapshot refused: ${error.message}`);
          this.sendJson(response, 503, { error: `busy: ${error.message} (dashboard.maxSnapshotRequests)` }, head);
        } else this.fail(response, '/clients', error, head);
      },
    );
  }

  private client(response: http.ServerResponse, params: URLSearchParams, head: boolean): void {
    const id = params.get('id');
    const radiusText = params.get('radius') ?? '10';
    const limitText = params.get('limit') ?? String(MAX_BOUND);
    const radiusKm = Number(radiusText);
    const limit = Number(limitText);
    if (id === null || id === '') {
      this.sendJson(response, 400, { error: 'id is required' }, head);
      return;
    }
    if (!(radiusKm > 0 && radiusKm <= MAX_RADIUS_KM)) {
      this.sendJson(response, 400, { error: `radius must be in (0, ${MAX_RADIUS_KM}] km, as in WHATSAT` }, head);
      return;
    }
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_BOUND)) {
      this.sendJson(response, 400, { error: `limit must be an integer in [1, ${MAX_BOUND}], as in WHATSAT` }, head);
      return;
    }
    const record = this.server.store.get(id);
    if (record === undefined) {
      this.sendJson(response, 404, { error: 'no server of the herd has told this one of that client id' }, head);
      return;
    }
    if (this.lookupsInFlight >= this.settings.maxLookupsInFlight) {
      this.log.warn(
        { event: 'dashboard-busy', what: 'places' },
        'dashboard places look-up refused: too many in flight',
      );
      this.sendJson(
        response,
        503,
        { error: `busy: ${this.lookupsInFlight} look-ups in flight (dashboard.maxLookupsInFlight)` },
        head,
      );
      return;
    }
    this.lookupsInFlight++;
    this.server
      .lookUpPlaces(record, radiusKm * 1000, limit)
      .finally(() => this.lookupsInFlight--)
      .then(
        (places) =>
          this.sendJson(
            response,
            200,
            {
              ...toCheckin(record),
              atLine: record.atLine,
              radiusKm,
              limit,
              places,
            },
            head,
          ),
        (error: unknown) => this.fail(response, '/client', error, head),
      );
  }

  private start(): void {
    if (this.active) return;
    this.active = true;
    this.scheduleFlush();
    this.pollServers();
  }

  private stop(): void {
    this.active = false;
    this.timers.clearTimeout(this.flushTimer);
    this.timers.clearTimeout(this.serverTimer);
    this.flushTimer = undefined;
    this.serverTimer = undefined;
    this.buffer.fill(undefined, 0, this.buffered);
    this.buffered = 0;
    this.overflow = 0;
    this.linkChanges.clear();
  }

  private scheduleFlush(): void {
    this.flushTimer = this.timers.setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.active) return;
      this.flush();
      if (this.active) this.scheduleFlush();
    }, this.settings.flushIntervalMs);
  }

  private pollServers(): void {
    void this.poller.poll().then((rows) => {
      if (!this.active) return;
      this.streams.broadcast(this.serverEvent(rows));
      this.timers.clearTimeout(this.serverTimer);
      this.serverTimer = this.timers.setTimeout(() => this.pollServers(), this.settings.serverIntervalMs);
    });
  }

  /** Sends what happened since the last flush: link changes, then check-ins (latest per client). */
  private flush(): void {
    let chunk = '';
    if (this.linkChanges.size > 0) {
      const rows = new Map(this.server.status().links.map((row) => [row.peer, row]));
      const links = [...this.linkChanges].map(([peer, state]) => ({ ...rows.get(peer), peer, status: state }));
      this.linkChanges.clear();
      chunk += sseMessage('link', { server: this.server.name, links });
    }
    if (this.buffered > 0 || this.overflow > 0) {
      const seen = new Set<string>();
      const checkins: Checkin[] = [];
      let more = this.overflow;
      const max = this.settings.maxCheckinsPerFlush;
      for (let i = this.buffered - 1; i >= 0; i--) {
        const record = this.buffer[i] as LocationRecord;
        this.buffer[i] = undefined;
        if (seen.has(record.clientId)) continue;
        seen.add(record.clientId);
        if (checkins.length < max) checkins.push(toCheckin(record));
        else more++;
      }
      this.buffered = 0;
      this.overflow = 0;
      chunk += sseMessage('checkin', { server: this.server.name, checkins, more });
    }
    this.streams.broadcast(chunk);
  }
}
