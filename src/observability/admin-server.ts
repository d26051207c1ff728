/**
 * A server's admin HTTP endpoint (docs/observability.md "Endpoints"): `GET /metrics` (Prometheus
 * text format), `GET /status` (JSON of {@link HerdServer.status}), `GET /ready`, `GET /live` and
 * `GET /healthz`. Plain HTTP on loopback by default: it is for operators and Prometheus, not for
 * clients; with tokens configured (src/observability/admin-auth.ts) only their holders read it.
 */
import { AdminListener } from './admin-listener.js';
import { LogThrottle } from './log-throttle.js';
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from './logger.js';
import type { ServerLoad, ServerStatus, StoreStatus } from '../core/status.js';
import { httpUrl } from '../core/hosts.js';
import { LOOPBACK_HOST } from '../core/hosts.js';
import { checkAccess, type AccessVerdict, type AdminTokens, type RouteAccess } from './admin-auth.js';

/** What serves `/metrics`: a {@link MetricsObserver} fits. */
export interface MetricsSource {
  /** The `Content-Type` of {@link metrics}, e.g. `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  /** Every metric in Prometheus text format. */
  metrics(): Promise<string>;
  /** The counts and event-loop delay `/status` carries beside the server's own snapshot. */
  load(): ServerLoad;
}

/** Options of {@link AdminServer}. */
export interface AdminServerOptions {
  /** Interface to listen on. @default {@link LOOPBACK_HOST} */
  readonly host?: string;
  /** TCP port; 0 lets the OS choose (read it back from {@link AdminServer.listen}). @default 0 */
  readonly port?: number;
  /**
   * The port already bound (./admin-listener.ts): {@link AdminServer.listen} takes it over, and
   * {@link host} and {@link port} are not used. @default none: the port is bound at `listen`
   */
  readonly listener?: AdminListener;
  /** The snapshot `/status` serves; with {@link metrics}, their `load` is added to it. */
  readonly status: () => ServerStatus;
  /** What `/metrics` serves; without it `/metrics` is 404. */
  readonly metrics?: MetricsSource;
  /**
   * Whether `/healthz` says `ok` (200) or `stopping` (503), and `/ready` may say ready; false once
   * shutdown began.
   * @default always true while the admin server listens
   */
  readonly healthy?: () => boolean;
  /** The tokens requests must carry (docs/operations.md "The admin port's tokens"). @default none: open */
  readonly tokens?: AdminTokens;
  /** Where request failures are logged. @default none */
  readonly logger?: Logger;
  /**
   * More GET routes (the dashboard, src/dashboard/dashboard.ts): asked for every path that is not
   * one of the admin server's own, before the 404.
   */
  readonly routes?: AdminRoutes;
}

/** Extra routes of an {@link AdminServer}. */
export interface AdminRoutes {
  /** What `pathname` shows, and so which token reads it; undefined when it is not one of its routes. */
  routeAccess(pathname: string): RouteAccess | undefined;
  /**
   * Answers `request` (a GET or HEAD) if `pathname` is one of its routes.
   *
   * @returns false when it is not, and the admin server answers 404.
   */
  handle(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    pathname: string,
    query: URLSearchParams,
  ): boolean;
}

function send(
  response: http.ServerResponse,
  status: number,
  contentType: string,
  body: string,
  head: boolean,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  response.end(head ? undefined : body);
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** The admin server's own routes and what they show (the others come from {@link AdminServerOptions.routes}). */
const OWN_ROUTES: Readonly<Record<string, RouteAccess>> = {
  '/live': 'public',
  '/ready': 'operator',
  '/healthz': 'operator',
  '/status': 'operator',
  '/metrics': 'operator',
};

/** What `GET /ready` answers: `{ ready: true, store }` (200), or `{ ready: false, reason, store? }` (503). */
export interface Readiness {
  readonly ready: boolean;
  /** Why not: `stopping`, `store failing: <last error>`, `store read-only: <last error>`. */
  readonly reason?: string;
  /** The store's state ({@link StoreStatus.state}). */
  readonly store?: StoreStatus['state'];
}

/**
 * Whether a server can accept and store: not stopping, and its store `ok` (or `memory`: nothing to
 * fail). A store that is `failing` or `read-only` makes it not ready, with or without `store.sync`.
 */
export function readiness(stopping: boolean, store: StoreStatus | undefined): Readiness {
  if (stopping) return { ready: false, reason: 'stopping', store: store?.state };
  if (store === undefined || store.state === 'ok' || store.state === 'memory')
    return { ready: true, store: store?.state };
  const why = store.lastError === undefined ? '' : `: ${store.lastError}`;
  return { ready: false, reason: `store ${store.state}${why}`, store: store.state };
}

/**
 * The admin HTTP server of one herd member. Routes (anything else is 404; methods other than GET and
 * HEAD get 405 with `Allow: GET, HEAD`):
 *
 * - `GET /metrics`: 200, Prometheus text format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`).
 * - `GET /status`: 200, `application/json`, the {@link ServerStatus} snapshot.
 * - `GET /ready`: 200 while the server can accept and store, else 503; JSON {@link Readiness}.
 * - `GET /live`: 200 `live` whenever the event loop runs the handler (never needs a token).
 * - `GET /healthz`: 200 `ok` while healthy, else 503 `stopping`.
 * - anything {@link AdminServerOptions.routes} answers (the dashboard: `/`, `/events`, ...).
 *
 * With {@link AdminServerOptions.tokens}, a request without a valid token gets 401 (with
 * `WWW-Authenticate: Bearer`), and the admin token on a locations route 403. A query string is
 * ignored by the admin server's own routes. A failure while rendering is answered 500 and logged.
 */
export class AdminServer {
  private readonly options: AdminServerOptions;
  private server: http.Server | undefined;
  private address: net.AddressInfo | undefined;
  /** `admin-unauthorized` at most once a second: a scanner must not flood the log. */
  private readonly refusals = new LogThrottle();

  constructor(options: AdminServerOptions) {
    this.options = options;
  }

  /**
   * Starts listening: on {@link AdminServerOptions.listener} when given (its held connections are
   * answered now), else on a port bound now.
   *
   * @returns the bound address (the real port when the configured one is 0).
   * @throws {HerdError} `HERD_ADMIN_LISTEN` when the port cannot be bound (e.g. in use), with the
   *   `listen` error as `cause`.
   */
  async listen(): Promise<net.AddressInfo> {
    const listener =
      this.options.listener ?? (await AdminListener.bind(this.options.host ?? LOOPBACK_HOST, this.options.port ?? 0));
    const server = http.createServer((request, response) => this.handle(request, response));
    // Scrapes are small and periodic: do not let an idle keep-alive connection hold shutdown up.
    server.keepAliveTimeout = 2000;
    await listener.handTo(server);
    server.on('error', (error) =>
      this.options.logger?.error({ event: 'admin-error', err: error.message }, 'admin server error'),
    );
    this.server = server;
    this.address = listener.address;
    return this.address;
  }

  /** `http://host:port` of the bound server (undefined before {@link listen}). */
  get url(): string | undefined {
    return this.address === undefined ? undefined : httpUrl(this.address.address, this.address.port);
  }

  /** Stops listening and closes every open connection, idle or not. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** What `/status` answers: the server's snapshot and, with metrics, its load. */
  private statusWithLoad(): ServerStatus {
    const status = this.options.status();
    const metrics = this.options.metrics;
    return metrics === undefined ? status : { ...status, load: metrics.load() };
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const head = request.method === 'HEAD';
    if (request.method !== 'GET' && !head) {
      send(response, 405, TEXT, 'method not allowed\n', false, { Allow: 'GET, HEAD' });
      return;
    }
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const pathname = queryStart === -1 ? url : url.slice(0, queryStart);
    const fail = (error: unknown): void => {
      this.options.logger?.error(
        { event: 'admin-failed', path: pathname, err: String(error) },
        `admin ${pathname} failed`,
      );
      if (!response.headersSent) send(response, 500, TEXT, 'internal error\n', head);
      else response.destroy();
    };
    const access = OWN_ROUTES[pathname] ?? this.options.routes?.routeAccess(pathname) ?? 'operator';
    const verdict = checkAccess(this.options.tokens ?? {}, access, request.headers.authorization);
    if (verdict !== 'allowed') {
      this.refuse(request, response, pathname, verdict, head);
      return;
    }
    try {
      switch (pathname) {
        case '/metrics': {
          const metrics = this.options.metrics;
          if (metrics === undefined) break;
          metrics.metrics().then((text) => send(response, 200, metrics.contentType, text, head), fail);
          return;
        }
        case '/status':
          send(response, 200, JSON_TYPE, `${JSON.stringify(this.statusWithLoad())}\n`, head);
          return;
        case '/healthz':
          if (this.options.healthy?.() ?? true) send(response, 200, TEXT, 'ok\n', head);
          else send(response, 503, TEXT, 'stopping\n', head);
          return;
        case '/ready': {
          const answer = readiness(!(this.options.healthy?.() ?? true), this.options.status().store);
          send(response, answer.ready ? 200 : 503, JSON_TYPE, `${JSON.stringify(answer)}\n`, head);
          return;
        }
        case '/live':
          send(response, 200, TEXT, 'live\n', head);
          return;
        default:
          if (
            this.options.routes?.handle(
              request,
              response,
              pathname,
              new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1)),
            ) === true
          )
            return;
          break;
      }
      send(
        response,
        404,
        TEXT,
        `not found; try ${this.options.routes === undefined ? '' : '/ (the dashboard), '}/metrics, /status, /ready, /live or /healthz\n`,
        head,
        { 'X-Content-Type-Options': 'nosniff' },
      );
    } catch (error) {
      fail(error);
    }
  }

  /** Answers 401 or 403, and logs it at most once a second through a LogThrottle (never the token). */
  private refuse(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    pathname: string,
    verdict: Exclude<AccessVerdict, 'allowed'>,
    head: boolean,
  ): void {
    if (verdict === 'forbidden')
      send(
        response,
        403,
        TEXT,
        'this token cannot read client locations: use the locations token (admin.locationsTokenFile)\n',
        head,
      );
    else
      send(
        response,
        401,
        TEXT,
        'an admin token is required: send Authorization: Bearer <token> (admin.tokenFile)\n',
        head,
        {
          'WWW-Authenticate': 'Bearer realm="herd admin"',
        },
      );
    const unlogged = this.refusals.take();
    if (unlogged === undefined) return;
    const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    this.options.logger?.warn(
      { event: 'admin-unauthorized', path: pathname, remote, verdict, unlogged },
      `admin ${pathname} from ${remote} refused (${verdict === 'forbidden' ? 'token cannot read locations' : 'no valid token'})`,
    );
  }
}
