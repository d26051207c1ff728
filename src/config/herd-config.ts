/**
 * The herd config file: servers, links, places source, logs and limits, validated with zod at start.
 * Every error names the file and the field (e.g. `herd.json: links[2][1]: unknown server "Balll"`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { ConfigError } from '../errors.js';
import { DEFAULT_LINK_SETTINGS, linkSettingsProblem } from '../peers/link-settings.js';
import {
  CACHE_MAX_ENTRIES,
  CACHE_TTL_MS,
  DEFAULT_PLACES_DATA_FILE,
  GOOGLE_LEGACY_BASE_URL,
  GOOGLE_NEW_BASE_URL,
  GOOGLE_PLACES_API_KEY_ENV,
  GOOGLE_TIMEOUT_MS,
  LOCATION_DECIMALS,
  NEW_FIELD_SETS,
  PLACES_SOURCES,
  normalizeBaseUrl,
} from '../places/settings.js';
import { DEFAULT_SERVER_LIMITS } from '../server/limits.js';
import { DEFAULT_DASHBOARD_SETTINGS } from '../dashboard/settings.js';
import { parseIso6709 } from '../protocol/location.js';
import { COMMIT_INTERVAL_MS } from '../store/store-settings.js';

export { BUILT_IN_HERDS, HERDS_DIR, builtInHerdFile, type BuiltInHerd } from './built-in-herds.js';

const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * The default peer port is the client port plus this: the convention of Redis Cluster's bus port
 * (client port + 10000).
 */
export const PEER_PORT_OFFSET = 10_000;

const port = z.number().int().min(0).max(65535);

const serverSchema = z
  .strictObject({
    /** Server name: letters, digits, `_`, `.`, `-`; 1-64 characters. */
    name: z
      .string()
      .regex(SERVER_NAME, 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit'),
    /** Interface of the client port, and the address clients dial. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Client port (clients only); 0 lets the OS choose (only under `herd start`, which knows the real port). */
    port,
    /**
     * Peer port (links from neighbours only). @default `port` + {@link PEER_PORT_OFFSET}, or 0 when
     * `port` is 0 (`herd start` then tells neighbours the real one).
     */
    peerPort: port.optional(),
    /** Interface of the peer port, and the address neighbours dial (e.g. a private network). @default `host` */
    peerHost: z.string().min(1).optional(),
    /**
     * Run elsewhere (another machine, another supervisor): `herd start` links to it but does not start
     * it, so its ports must not be 0.
     */
    external: z.boolean().default(false),
    /**
     * Port of the admin HTTP server (`/metrics`, `/status`, `/healthz`; docs/observability.md); 0 lets
     * the OS choose (`herd start` records the real one in its runtime file). Absent: no admin server.
     */
    adminPort: port.optional(),
    /** Interface the admin server listens on. @default '127.0.0.1' (loopback only) */
    adminHost: z.string().min(1).default('127.0.0.1'),
    /**
     * Where the server stands, ISO 6709 in decimal degrees (`+34.068930-118.445127`), for the
     * dashboard's map. Optional.
     */
    location: z
      .string()
      .refine(
        (text) => parseIso6709(text) !== undefined,
        'must be an ISO 6709 location in decimal degrees, e.g. "+34.068930-118.445127"',
      )
      .optional(),
  })
  .transform((server, context) => {
    let peerPort = server.peerPort;
    if (peerPort === undefined) {
      peerPort = server.port === 0 ? 0 : server.port + PEER_PORT_OFFSET;
      if (peerPort > 65535) {
        context.addIssue({
          code: 'custom',
          path: ['peerPort'],
          message: `the default peer port (port ${server.port} + ${PEER_PORT_OFFSET} = ${peerPort}) is over 65535; set peerPort`,
        });
        return z.NEVER;
      }
    }
    return { ...server, peerPort, peerHost: server.peerHost ?? server.host };
  });

const positiveInt = z.number().int().positive();

const baseUrl = z
  .string()
  .refine(
    (text) => normalizeBaseUrl(text) !== undefined,
    'must be an http:// or https:// URL without credentials, query or fragment',
  );

/** The schema of the config's `places` object (docs/places.md). */
export const placesConfigSchema = z
  .strictObject({
    /** Where WHATSAT places come from; `--places` overrides it. */
    source: z.enum(PLACES_SOURCES).default('offline'),
    /** The offline source's data file (`herd places import`); relative to the config file. Default: the built-in one. */
    data: z.string().min(1).default(DEFAULT_PLACES_DATA_FILE),
    /** Legacy Nearby Search base (scheme, host, port, path prefix); env GOOGLE_PLACES_LEGACY_URL overrides it. */
    legacyBaseUrl: baseUrl.default(GOOGLE_LEGACY_BASE_URL),
    /** Places API (New) base; env GOOGLE_PLACES_NEW_URL overrides it. */
    newBaseUrl: baseUrl.default(GOOGLE_NEW_BASE_URL),
    /** Time budget of one Google look-up, retry included, ms. */
    timeoutMs: positiveInt.default(GOOGLE_TIMEOUT_MS),
    /** Retry once on a transient failure (reset connection, 5xx, 429). */
    retry: z.boolean().default(true),
    /** `google-new` field mask: `enterprise` (every legacy field) or `pro` (cheaper; no rating, price, hours). */
    newFields: z.enum(NEW_FIELD_SETS).default('enterprise'),
    /** Decimal places of the location sent to Google and used to coalesce look-ups. */
    locationDecimals: z.number().int().min(0).max(8).default(LOCATION_DECIMALS),
    /** Cache of successful Google responses: off by default (Google's terms; docs/places.md). */
    cache: z
      .strictObject({
        enabled: z.boolean().default(false),
        ttlMs: positiveInt.default(CACHE_TTL_MS),
        maxEntries: positiveInt.default(CACHE_MAX_ENTRIES),
      })
      .prefault({}),
  })
  .prefault({});

/** The schema of a herd config file. */
export const herdConfigSchema = z.strictObject({
  servers: z.array(serverSchema).min(1, 'a herd needs at least one server'),
  /** Bidirectional links, each a pair of server names. */
  links: z.array(z.tuple([z.string(), z.string()])).default([]),
  places: placesConfigSchema,
  /** Folder of the per-server log files; relative to the working directory. */
  logDir: z.string().min(1).default('logs'),
  /** pino level; `info` logs every line in and out. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * File holding the herd secret that authenticates links (at least 16 bytes). The environment
   * variables HERD_SECRET and HERD_SECRET_FILE take precedence. Without any: development mode.
   */
  secretFile: z.string().min(1).optional(),
  /** TLS for every server's listener (clients and links) and for the links it dials. */
  tls: z
    .strictObject({
      /** PEM certificate chain of the servers. */
      certFile: z.string().min(1),
      /** PEM private key of the servers. */
      keyFile: z.string().min(1),
      /** PEM CA certificate(s) that links verify neighbours against; omit to use the system CAs. */
      caFile: z.string().min(1).optional(),
    })
    .optional(),
  /** Folder of the per-server stores (`<dataDir>/<name>.sqlite`); relative to the working directory. */
  dataDir: z.string().min(1).default('data'),
  store: z
    .strictObject({
      /** Keep the location table on disk (SQLite, WAL). */
      durable: z.boolean().default(true),
      /** Group commit interval, ms: a whole-herd power cut loses at most this much. */
      commitIntervalMs: positiveInt.max(10_000).default(COMMIT_INTERVAL_MS),
      /** Acknowledge an IAMAT only after its update is committed (zero loss, higher latency). */
      sync: z.boolean().default(false),
    })
    .prefault({}),
  /** Link settings (src/peers/link-settings.ts, where the defaults live). */
  peer: z
    .strictObject({
      reconnectBaseDelayMs: positiveInt.default(DEFAULT_LINK_SETTINGS.reconnectBaseDelayMs),
      reconnectMaxDelayMs: positiveInt.default(DEFAULT_LINK_SETTINGS.reconnectMaxDelayMs),
      handshakeTimeoutMs: positiveInt.default(DEFAULT_LINK_SETTINGS.handshakeTimeoutMs),
      maxQueuedUpdates: positiveInt.default(DEFAULT_LINK_SETTINGS.maxQueuedUpdates),
      antiEntropyIntervalMs: positiveInt.default(DEFAULT_LINK_SETTINGS.antiEntropyIntervalMs),
      heartbeatIntervalMs: positiveInt.default(DEFAULT_LINK_SETTINGS.heartbeatIntervalMs),
      deadAfterMs: positiveInt.default(DEFAULT_LINK_SETTINGS.deadAfterMs),
      joinTimeoutMs: z.number().int().min(0).default(DEFAULT_LINK_SETTINGS.joinTimeoutMs),
    })
    .prefault({}),
  /** Server limits (src/server/limits.ts, where the defaults live). */
  limits: z
    .strictObject({
      // The longest line between servers, an anti-entropy SUMS line, is about 2.2 KiB.
      maxLineBytes: positiveInt.min(3072).default(DEFAULT_SERVER_LIMITS.maxLineBytes),
      maxClientIdBytes: positiveInt.default(DEFAULT_SERVER_LIMITS.maxClientIdBytes),
      maxConnections: positiveInt.default(DEFAULT_SERVER_LIMITS.maxConnections),
      maxConnectionsPerAddress: positiveInt.default(DEFAULT_SERVER_LIMITS.maxConnectionsPerAddress),
      idleTimeoutMs: positiveInt.default(DEFAULT_SERVER_LIMITS.idleTimeoutMs),
      maxPendingOutputBytes: positiveInt.default(DEFAULT_SERVER_LIMITS.maxPendingOutputBytes),
      maxPendingReplies: positiveInt.default(DEFAULT_SERVER_LIMITS.maxPendingReplies),
      slowReaderTimeoutMs: positiveInt.default(DEFAULT_SERVER_LIMITS.slowReaderTimeoutMs),
      shutdownGraceMs: positiveInt.default(DEFAULT_SERVER_LIMITS.shutdownGraceMs),
      placesTimeoutMs: positiveInt.default(DEFAULT_SERVER_LIMITS.placesTimeoutMs),
      maxFutureSkewMs: positiveInt.default(DEFAULT_SERVER_LIMITS.maxFutureSkewMs),
    })
    .prefault({}),
  /** Dashboard bounds and intervals (src/dashboard/settings.ts, where the defaults live). */
  dashboard: z
    .strictObject({
      maxStreams: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.maxStreams),
      maxStreamUnwrittenBytes: positiveInt.min(4096).default(DEFAULT_DASHBOARD_SETTINGS.maxStreamUnwrittenBytes),
      flushIntervalMs: positiveInt.min(50).default(DEFAULT_DASHBOARD_SETTINGS.flushIntervalMs),
      maxCheckinsPerFlush: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.maxCheckinsPerFlush),
      maxBufferedCheckins: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.maxBufferedCheckins),
      heartbeatIntervalMs: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.heartbeatIntervalMs),
      serverIntervalMs: positiveInt.min(100).default(DEFAULT_DASHBOARD_SETTINGS.serverIntervalMs),
      pollTimeoutMs: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.pollTimeoutMs),
      maxSnapshotPoints: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.maxSnapshotPoints),
      maxSnapshotCells: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.maxSnapshotCells),
      snapshotSliceMs: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.snapshotSliceMs),
      maxSnapshotRequests: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.maxSnapshotRequests),
      maxLookupsInFlight: positiveInt.default(DEFAULT_DASHBOARD_SETTINGS.maxLookupsInFlight),
      allowedHosts: z.array(z.string().min(1)).default([...DEFAULT_DASHBOARD_SETTINGS.allowedHosts]),
    })
    .prefault({}),
});

/** A validated herd config, defaults filled in. */
export type HerdConfig = z.output<typeof herdConfigSchema>;
/** One server of a {@link HerdConfig}. */
export type ServerConfig = HerdConfig['servers'][number];

function fieldPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    out += typeof segment === 'number' ? `[${segment}]` : `${out === '' ? '' : '.'}${String(segment)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** The three ports of a server, as config fields. */
const PORT_FIELDS = [
  { field: 'port', host: 'host', what: 'client port' },
  { field: 'peerPort', host: 'peerHost', what: 'peer port' },
  { field: 'adminPort', host: 'adminHost', what: 'admin port' },
] as const;

/** Interfaces that mean "every interface": a port bound there clashes with that port on any host. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * Refuses any port used twice among the client, peer and admin ports of servers whose interfaces
 * overlap (the same host, or a wildcard one). Port 0 (the OS chooses) never clashes.
 *
 * @throws {ConfigError} naming the later field and the earlier use.
 */
function checkPortsUnique(servers: readonly ServerConfig[], file: string): void {
  const used: { host: string; port: number; label: string }[] = [];
  servers.forEach((server, i) => {
    for (const { field, host: hostField, what } of PORT_FIELDS) {
      const port = server[field];
      if (port === undefined || port === 0) continue;
      const host = server[hostField];
      const clash = used.find(
        (other) =>
          other.port === port && (other.host === host || WILDCARD_HOSTS.has(other.host) || WILDCARD_HOSTS.has(host)),
      );
      if (clash !== undefined) {
        throw new ConfigError(
          file,
          `servers[${i}].${field}: ${host}:${port} is also the ${clash.label} (duplicate port)`,
        );
      }
      used.push({ host, port, label: `${what} of "${server.name}"` });
    }
  });
}

/**
 * Validates a parsed config object.
 *
 * @param raw - the parsed JSON.
 * @param file - the file it came from, for error messages.
 * @throws {ConfigError} naming the file and field: schema violations, duplicate server names, a
 *   port used twice among the client, peer and admin ports of servers on the same host, a port 0 on
 *   an external server, links to unknown servers, self-links, duplicate links, and link settings that
 *   break a rule between fields (`peer.deadAfterMs` under twice `peer.heartbeatIntervalMs`).
 */
export function validateHerdConfig(raw: unknown, file: string): HerdConfig {
  // The key lives only in the environment (docs/protocol.md "Logs"): say so rather than "unrecognized key".
  const rawPlaces = raw !== null && typeof raw === 'object' ? (raw as { places?: unknown }).places : undefined;
  if (rawPlaces !== null && typeof rawPlaces === 'object') {
    for (const field of ['apiKey', 'key', 'api_key']) {
      if (field in rawPlaces)
        throw new ConfigError(
          file,
          `places.${field}: the Google API key is read only from the environment variable ${GOOGLE_PLACES_API_KEY_ENV}; remove it from the config file`,
        );
    }
  }
  const result = herdConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(file, issue === undefined ? 'invalid' : `${fieldPath(issue.path)}: ${issue.message}`, {
      cause: result.error,
    });
  }
  const config = result.data;
  const names = new Set<string>();
  config.servers.forEach((server, i) => {
    if (names.has(server.name))
      throw new ConfigError(file, `servers[${i}].name: duplicate server name "${server.name}"`);
    names.add(server.name);
    if (server.external) {
      for (const { field } of PORT_FIELDS) {
        if (server[field] === 0) {
          throw new ConfigError(
            file,
            `servers[${i}].${field}: external server "${server.name}" needs a real port, not 0`,
          );
        }
      }
    }
  });
  checkPortsUnique(config.servers, file);
  const linkProblem = linkSettingsProblem(config.peer);
  if (linkProblem !== undefined) throw new ConfigError(file, `peer.${linkProblem}`);
  if (config.places.source !== 'offline' && config.places.timeoutMs >= config.limits.placesTimeoutMs) {
    // A Google source must give up first, so the client gets its specific error, not the server's generic one.
    throw new ConfigError(
      file,
      `places.timeoutMs: ${config.places.timeoutMs} must be less than limits.placesTimeoutMs (${config.limits.placesTimeoutMs})`,
    );
  }
  const seen = new Set<string>();
  config.links.forEach(([a, b], i) => {
    if (!names.has(a))
      throw new ConfigError(file, `links[${i}][0]: unknown server "${a}" (servers are ${[...names].join(', ')})`);
    if (!names.has(b))
      throw new ConfigError(file, `links[${i}][1]: unknown server "${b}" (servers are ${[...names].join(', ')})`);
    if (a === b) throw new ConfigError(file, `links[${i}]: a server cannot link to itself ("${a}")`);
    const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
    if (seen.has(key)) throw new ConfigError(file, `links[${i}]: duplicate link ${a}-${b}`);
    seen.add(key);
  });
  return config;
}

/**
 * Reads and validates a herd config file.
 *
 * @throws {ConfigError} when the file cannot be read, is not JSON, or is invalid.
 */
export function loadHerdConfig(file: string): HerdConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, `bad JSON: ${(error as Error).message}`, { cause: error });
  }
  const config = validateHerdConfig(raw, file);
  // Files the config names as inputs resolve against its own folder; output folders (logDir,
  // dataDir) against the working directory.
  const here = path.dirname(path.resolve(file));
  if (config.secretFile !== undefined) config.secretFile = path.resolve(here, config.secretFile);
  config.places.data = path.resolve(here, config.places.data);
  if (config.tls !== undefined) {
    config.tls.certFile = path.resolve(here, config.tls.certFile);
    config.tls.keyFile = path.resolve(here, config.tls.keyFile);
    if (config.tls.caFile !== undefined) config.tls.caFile = path.resolve(here, config.tls.caFile);
  }
  return config;
}

/** The neighbours of `serverName`: every server it shares a link with, in link order. */
export function neighboursOf(config: HerdConfig, serverName: string): string[] {
  const out: string[] = [];
  for (const [a, b] of config.links) {
    if (a === serverName) out.push(b);
    else if (b === serverName) out.push(a);
  }
  return out;
}
