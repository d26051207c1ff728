/**
 * A server's admin HTTP endpoint (issue 5, "Watch a running herd"): `GET /metrics` (Prometheus text
 * format), `GET /status` (JSON of {@link HerdServer.status}) and `GET /healthz`. Plain HTTP on
 * loopback by default: it is for the operator and a Prometheus on the same machine, not for clients.
 */
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from './logger.js';
import type { ServerStatus } from '../core/status.js';
import { HerdError } from '../errors.js';

/** Default {@link AdminServerOptions.host}: loopback only. */
export const ADMIN_HOST = '127.0.0.1';

/** What serves `/metrics`: a {@link MetricsObserver} fits. */
export interface MetricsSource {
  /** The `Content-Type` of {@link metrics}, e.g. `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  /** Every metric in Prometheus text format. */
  metrics(): Promise<string>;
}

/** Options of {@link AdminServer}. */
export interface AdminServerOptions {
  /** Interface to listen on. @default {@link ADMIN_HOST} */
  readonly host?: string;
  /** TCP port; 0 lets the OS choose (read it back from {@link AdminServer.listen}). @default 0 */
  readonly port?: number;
  /** The snapshot `/status` serves. */
  readonly status: () => ServerStatus;
  /** What `/metrics` serves; without it `/metrics` is 404. */
  readonly metrics?: MetricsSource;
  /**
   * Whether `/healthz` says `ok` (200) or `stopping` (503); e.g. false once shutdown began.
   * @default always true while the admin server listens
   */
  readonly healthy?: () => boolean;
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

/** `http://host:port`, with brackets around an IPv6 host. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
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

/**
 * The admin HTTP server of one herd member. Routes (anything else is 404; methods other than GET and
 * HEAD get 405 with `Allow: GET, HEAD`):
 *
 * - `GET /metrics`: 200, Prometheus text format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`).
 * - `GET /status`: 200, `application/json`, the {@link ServerStatus} snapshot.
 * - `GET /healthz`: 200 `ok` while healthy, else 503 `stopping`.
 * - anything {@link AdminServerOptions.routes} answers (the dashboard: `/`, `/events`, ...).
 *
 * A query string is ignored by the admin server's own routes. A failure while rendering is answered 500 and logged.
 */
export class AdminServer {
  private readonly options: AdminServerOptions;
  private server: http.Server | undefined;
  private address: net.AddressInfo | undefined;

  constructor(options: AdminServerOptions) {
    this.options = options;
  }

  /**
   * Starts listening.
   *
   * @returns the bound address (the real port when the configured one is 0).
   * @throws {HerdError} `HERD_ADMIN_LISTEN` when the port cannot be bound (e.g. in use), with the
   *   `listen` error as `cause`.
   */
  async listen(): Promise<net.AddressInfo> {
    const server = http.createServer((request, response) => this.handle(request, response));
    // Scrapes are small and periodic: do not let an idle keep-alive connection hold shutdown up.
    server.keepAliveTimeout = 2000;
    const host = this.options.host ?? ADMIN_HOST;
    const port = this.options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new HerdError(
            'HERD_ADMIN_LISTEN',
            `admin server cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
            { cause: error },
          ),
        ),
      );
      server.listen({ host, port }, () => resolve());
    });
    server.removeAllListeners('error');
    server.on('error', (error) =>
      this.options.logger?.error({ event: 'admin-error', err: error.message }, 'admin server error'),
    );
    this.server = server;
    this.address = server.address() as net.AddressInfo;
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
    try {
      switch (pathname) {
        case '/metrics': {
          const metrics = this.options.metrics;
          if (metrics === undefined) break;
          metrics.metrics().then((text) => send(response, 200, metrics.contentType, text, head), fail);
          return;
        }
        case '/status':
          send(response, 200, 'application/json; charset=utf-8', `${JSON.stringify(this.options.status())}\n`, head);
          return;
        case '/healthz':
          if (this.options.healthy?.() ?? true) send(response, 200, TEXT, 'ok\n', head);
          else send(response, 503, TEXT, 'stopping\n', head);
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
        `not found; try ${this.options.routes === undefined ? '' : '/ (the dashboard), '}/metrics, /status or /healthz\n`,
        head,
        { 'X-Content-Type-Options': 'nosniff' },
      );
    } catch (error) {
      fail(error);
    }
  }
}
