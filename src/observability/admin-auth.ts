/**
 * Who may read an admin port (docs/operations.md "The admin port's tokens"): bearer tokens (RFC 6750
 * `Authorization: Bearer <token>`), checked in constant time, in two kinds:
 *
 * - the **admin token** (`admin.tokenFile`, HERD_ADMIN_TOKEN): every route but the ones below;
 * - the **locations token** (`admin.locationsTokenFile`, HERD_ADMIN_LOCATIONS_TOKEN): the routes that
 *   show client locations, and every other route too. Without it, the admin token reads them.
 *
 * `/live` and the dashboard page's own files (code and style, no data) need no token: a browser
 * loads the page by plain navigation, and the page then sends the token itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { AdminConfig } from '../config/admin-config.js';
import type { HerdConfig } from '../config/herd-config.js';
import { ConfigError } from '../errors.js';
import { loadSecretValue } from '../config/secret-value.js';

/** Environment variable holding the admin token itself. */
export const HERD_ADMIN_TOKEN_ENV = 'HERD_ADMIN_TOKEN';
/** Environment variable naming a file that holds the admin token (e.g. systemd's `%d/...`). */
export const HERD_ADMIN_TOKEN_FILE_ENV = 'HERD_ADMIN_TOKEN_FILE';
/** Environment variable holding the locations token itself. */
export const HERD_ADMIN_LOCATIONS_TOKEN_ENV = 'HERD_ADMIN_LOCATIONS_TOKEN';
/** Environment variable naming a file that holds the locations token. */
export const HERD_ADMIN_LOCATIONS_TOKEN_FILE_ENV = 'HERD_ADMIN_LOCATIONS_TOKEN_FILE';
/** Shortest token accepted, in bytes (128 bits, as for the herd secret). */
export const MIN_ADMIN_TOKEN_BYTES = 16;
/**
 * What a token may hold: printable ASCII without spaces, so that it fits an `Authorization` header
 * as it is (`head -c 32 /dev/urandom | base64` makes one).
 */
const TOKEN_SHAPE = { test: /^[\x21-\x7e]+$/, says: 'printable ASCII without spaces (e.g. base64)' };

/**
 * What a route shows, and so which token reads it: `public` (no token: `/live`, the page's files),
 * `operator` (figures and state: `/metrics`, `/status`, `/ready`, `/herd`, ...), `locations` (client
 * locations: `/clients`, `/client`, `/events`).
 */
export type RouteAccess = 'public' | 'operator' | 'locations';

function sha256(bytes: Buffer | string): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** One bearer token: what a server checks requests against, and what a client sends. */
export class AdminToken {
  /** The value of an `Authorization` header carrying this token. */
  readonly authorization: string;
  private readonly digest: Buffer;

  /** @param token - the token's bytes (at least {@link MIN_ADMIN_TOKEN_BYTES}, checked where it is loaded). */
  constructor(token: Buffer | string) {
    this.authorization = `Bearer ${token.toString()}`;
    this.digest = sha256(token);
  }

  /**
   * Whether `digest` (the SHA-256 of a presented token) is this token's. Both sides are 32-byte
   * digests compared with `crypto.timingSafeEqual`, so the time taken says nothing about where a
   * wrong token differs, nor about the real token's length.
   */
  matchesDigest(digest: Buffer): boolean {
    return timingSafeEqual(this.digest, digest);
  }
}

/** The tokens of an admin port; with neither, it is open (as on loopback by default). */
export interface AdminTokens {
  /** The admin token: every route but `locations` ones when a locations token is set. */
  readonly admin?: AdminToken;
  /** The locations token: every route. */
  readonly locations?: AdminToken;
}

/**
 * Loads both tokens: the admin token from HERD_ADMIN_TOKEN, else the file HERD_ADMIN_TOKEN_FILE
 * names, else `admin.tokenFile`; the locations token likewise from HERD_ADMIN_LOCATIONS_TOKEN,
 * HERD_ADMIN_LOCATIONS_TOKEN_FILE, `admin.locationsTokenFile`. White space around a token is removed.
 *
 * @throws {ConfigError} naming the file that cannot be read, or the source of a token shorter than
 *   {@link MIN_ADMIN_TOKEN_BYTES} or holding anything but printable ASCII without spaces.
 */
export function loadAdminTokens(admin: AdminConfig, env: NodeJS.ProcessEnv = process.env): AdminTokens {
  const token = (what: string, valueEnv: string, fileEnv: string, file: string | undefined) => {
    const value = loadSecretValue(
      { what, valueEnv, fileEnv, file, minBytes: MIN_ADMIN_TOKEN_BYTES, shape: TOKEN_SHAPE },
      env,
    );
    return value === undefined ? undefined : new AdminToken(value);
  };
  return {
    admin: token('the admin token', HERD_ADMIN_TOKEN_ENV, HERD_ADMIN_TOKEN_FILE_ENV, admin.tokenFile),
    locations: token(
      'the admin locations token',
      HERD_ADMIN_LOCATIONS_TOKEN_ENV,
      HERD_ADMIN_LOCATIONS_TOKEN_FILE_ENV,
      admin.locationsTokenFile,
    ),
  };
}

/**
 * The `Authorization` header a tool reading other members' admin ports sends (`herd status`, the
 * dashboard's herd view): the admin token, else the locations token; undefined with neither.
 */
export function clientAuthorization(tokens: AdminTokens): string | undefined {
  return (tokens.admin ?? tokens.locations)?.authorization;
}

/**
 * The verdict on one request: `allowed`; `unauthenticated` (no token, or not one of this port's:
 * answer 401); `forbidden` (the admin token on a `locations` route while a locations token is set:
 * answer 403).
 */
export type AccessVerdict = 'allowed' | 'unauthenticated' | 'forbidden';

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case), or undefined. */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  return token === '' ? undefined : token;
}

/**
 * Whether a request with this `Authorization` header may read a route of this kind. A route is open
 * when no token could read it: `operator` routes without an admin token, `locations` routes with
 * neither token.
 */
export function checkAccess(
  tokens: AdminTokens,
  access: RouteAccess,
  authorization: string | undefined,
): AccessVerdict {
  if (access === 'public') return 'allowed';
  const { admin, locations } = tokens;
  if (admin === undefined && (access === 'operator' || locations === undefined)) return 'allowed';
  const presented = bearerToken(authorization);
  if (presented === undefined) return 'unauthenticated';
  const digest = sha256(presented);
  // Both comparisons always run: the time does not tell which token (if any) matched.
  const isAdmin = admin?.matchesDigest(digest) ?? false;
  const isLocations = locations?.matchesDigest(digest) ?? false;
  if (isLocations) return 'allowed';
  if (!isAdmin) return 'unauthenticated';
  return access === 'locations' && locations !== undefined ? 'forbidden' : 'allowed';
}

/** Whether `host` (an admin host of the config) is a loopback address or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (!net.isIPv6(bare)) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped !== null) return (mapped[1] as string).startsWith('127.');
  return new net.SocketAddress({ address: bare, family: 'ipv6' }).address === '::1';
}

/**
 * Refuses to serve an admin port on a non-loopback `adminHost` without an admin token, unless the
 * config says `admin.allowUnauthenticated: true`: an open admin port there hands every client's
 * location to whoever reaches it.
 *
 * @param names - the servers about to run here (each with an admin port).
 * @throws {ConfigError} naming `file` and the field `servers[i].adminHost`, and saying the fix.
 */
export function assertAdminPortsAllowed(
  config: Pick<HerdConfig, 'servers' | 'admin'>,
  file: string,
  names: readonly string[],
  tokens: AdminTokens,
): void {
  if (tokens.admin !== undefined || config.admin.allowUnauthenticated) return;
  config.servers.forEach((server, i) => {
    if (!names.includes(server.name) || isLoopbackHost(server.adminHost)) return;
    throw new ConfigError(
      file,
      `servers[${i}].adminHost: ${server.adminHost} is not a loopback address and no admin token is set, so anyone who reaches it reads every client's location; set admin.tokenFile (or ${HERD_ADMIN_TOKEN_ENV}), or admin.allowUnauthenticated: true to serve it without one`,
    );
  });
}
