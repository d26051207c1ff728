/**
 * How the dashboard answers over HTTP: the security headers of every response, the page's static
 * files (a fixed list: the page's own from `web/dashboard/`, the country outlines built into
 * `dist/dashboard/`, Leaflet's own from `node_modules`), which token reads which route, and the check
 * of the `Host` header against DNS rebinding.
 */
import type http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import type { RouteAccess } from '../observability/admin-auth.js';
import { PACKAGE_ROOT } from '../core/package-root.js';
import { EARTH_RADIUS_METERS } from '../places/offline/great-circle.js';

/** The page's own files: `web/dashboard/` at the package root (beside `herds/`). */
export const WEB_DIR = path.join(PACKAGE_ROOT, 'web', 'dashboard');

/**
 * The country outlines the page draws (GeoJSON, about 190 KB), computed at build time by
 * ./build-world.ts (`npm run build`) into `dist/dashboard/`.
 */
export const COUNTRIES_FILE = path.join(PACKAGE_ROOT, 'dist', 'dashboard', 'countries.json');

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

/** `Content-Type`s the dashboard serves. */
export const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  png: 'image/png',
  json: 'application/json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  events: 'text/event-stream; charset=utf-8',
} as const;

/** One static file: where it is (or its body, for one generated here), and its type. */
export interface StaticFile {
  /** Absolute path (resolved when first asked for); absent when {@link body} is given. */
  readonly file?: () => string;
  /** The whole file, for one generated from the server's own constants. */
  readonly body?: string;
  readonly type: string;
}

/**
 * `/dashboard/earth.js`, the page's Earth radius, generated from the one the offline source searches
 * with, so that the distances the page shows are the server's.
 */
export const EARTH_MODULE = `export const EARTH_RADIUS_KM = ${EARTH_RADIUS_METERS / 1000};\n`;

/** The page's ES modules in `web/dashboard/` (each is served; nothing else there is). */
export const PAGE_MODULES: readonly string[] = [
  'dashboard.js',
  'admin-token.js',
  'event-stream.js',
  'dom.js',
  'map.js',
  'topology.js',
  'client-view.js',
];

/**
 * Every static file by URL path. Leaflet's are the package's own `dist/` files (its ES module build,
 * its CSS and the images the CSS names). Nothing outside this list is served, so no path can reach
 * another file.
 */
export function staticFiles(): ReadonlyMap<string, StaticFile> {
  const require = createRequire(import.meta.url);
  const leafletDir = (): string => path.dirname(require.resolve('leaflet/dist/leaflet-src.esm.js'));
  const web = (name: string) => () => path.join(WEB_DIR, name);
  const leaflet = (name: string) => () => path.join(leafletDir(), name);
  const files = new Map<string, StaticFile>([
    ['/', { file: web('index.html'), type: CONTENT_TYPES.html }],
    ['/index.html', { file: web('index.html'), type: CONTENT_TYPES.html }],
    ['/dashboard/dashboard.css', { file: web('dashboard.css'), type: CONTENT_TYPES.css }],
    ['/dashboard/earth.js', { body: EARTH_MODULE, type: CONTENT_TYPES.js }],
    ['/dashboard/countries.json', { file: () => COUNTRIES_FILE, type: CONTENT_TYPES.json }],
    ['/dashboard/vendor/leaflet/leaflet.js', { file: leaflet('leaflet-src.esm.js'), type: CONTENT_TYPES.js }],
    ['/dashboard/vendor/leaflet/leaflet.css', { file: leaflet('leaflet.css'), type: CONTENT_TYPES.css }],
  ]);
  for (const module of PAGE_MODULES) files.set(`/dashboard/${module}`, { file: web(module), type: CONTENT_TYPES.js });
  for (const image of ['layers.png', 'layers-2x.png', 'marker-icon.png', 'marker-icon-2x.png', 'marker-shadow.png'])
    files.set(`/dashboard/vendor/leaflet/images/${image}`, {
      file: leaflet(path.join('images', image)),
      type: CONTENT_TYPES.png,
    });
  return files;
}

/** The dashboard's data routes (answered 503 before the dashboard is attached to its server). */
export const API_ROUTES: ReadonlySet<string> = new Set([
  '/events',
  '/herd',
  '/clients',
  '/client',
  '/dashboard/countries.json',
]);

/**
 * The routes that show client locations: only the locations token reads them when one is set
 * (src/observability/admin-auth.ts).
 */
export const LOCATION_ROUTES: ReadonlySet<string> = new Set(['/clients', '/client', '/events']);

/**
 * What a dashboard route shows: `public` for the page's own files (code and style: a browser loads
 * them by navigation, before the page can send a token), `locations` for {@link LOCATION_ROUTES},
 * `operator` for the other data routes; undefined for a path that is none of them.
 */
export function routeAccess(pathname: string, files: ReadonlyMap<string, StaticFile>): RouteAccess | undefined {
  if (LOCATION_ROUTES.has(pathname)) return 'locations';
  if (API_ROUTES.has(pathname)) return 'operator';
  return files.has(pathname) ? 'public' : undefined;
}

/** Writes a whole response with {@link SECURITY_HEADERS} and `Cache-Control: no-store`; nothing if the page is gone. */
export function sendResponse(
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

/** The host name of a `Host` header (`[::1]:12100` -> `::1`, `localhost:12100` -> `localhost`). */
export function hostName(header: string | undefined): string {
  if (header === undefined) return '';
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']') === -1 ? undefined : header.indexOf(']'));
  const colon = header.lastIndexOf(':');
  return (colon === -1 ? header : header.slice(0, colon)).toLowerCase();
}

/**
 * Whether the dashboard answers a request naming `host`: an IP address, `localhost` (or a name
 * under it), or one of `allowed`. A page on another site that points its own name at this address
 * (DNS rebinding) sends its own name, and is refused.
 */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  if (net.isIP(host) !== 0) return true;
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return allowed.some((name) => name.toLowerCase() === host);
}
