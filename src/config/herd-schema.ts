/**
 * The schema of a herd config file (zod): every field, its type, default and bound. Rules between
 * fields (unique names and ports, links to known servers) are in herd-checks.ts; reading a file and
 * wording its errors in herd-config.ts and config-messages.ts. Fields and defaults: docs/operations.md
 * "Configuration".
 */
import * as z from 'zod';
import { adminConfigSchema } from './admin-config.js';
import { settingsSection } from './settings-section.js';
import { LOOPBACK_HOST } from '../core/hosts.js';
import { DEFAULT_LINK_SETTINGS, DISSEMINATIONS } from '../peers/link-settings.js';
import {
  CACHE_MAX_ENTRIES,
  CACHE_TTL_MS,
  DEFAULT_PLACES_DATA_FILE,
  GOOGLE_LEGACY_BASE_URL,
  GOOGLE_NEW_BASE_URL,
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
    host: z.string().min(1).default(LOOPBACK_HOST),
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
    /** Interface the admin server listens on. @default {@link LOOPBACK_HOST} (loopback only) */
    adminHost: z.string().min(1).default(LOOPBACK_HOST),
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
  peer: settingsSection(DEFAULT_LINK_SETTINGS, {
    reconnectBaseDelayMs: positiveInt,
    reconnectMaxDelayMs: positiveInt,
    connectTimeoutMs: positiveInt,
    handshakeTimeoutMs: positiveInt,
    maxQueuedUpdates: positiveInt,
    antiEntropyIntervalMs: positiveInt,
    heartbeatIntervalMs: positiveInt,
    deadAfterMs: positiveInt,
    joinTimeoutMs: z.number().int().min(0),
    /** `flood` (every link) or `tree` (Plumtree: a tree per origin, ids on the other links). */
    dissemination: z.enum(DISSEMINATIONS),
  }),
  /** Server limits (src/server/limits.ts, where the defaults live). */
  limits: settingsSection(DEFAULT_SERVER_LIMITS, {
    // The longest line between servers, an anti-entropy SUMS line, is about 2.2 KiB.
    maxLineBytes: positiveInt.min(3072),
    maxClientIdBytes: positiveInt,
    maxConnections: positiveInt,
    maxConnectionsPerAddress: positiveInt,
    idleTimeoutMs: positiveInt,
    maxPendingOutputBytes: positiveInt,
    maxPendingReplies: positiveInt,
    slowReaderTimeoutMs: positiveInt,
    shutdownGraceMs: positiveInt,
    placesTimeoutMs: positiveInt,
    maxFutureSkewMs: positiveInt,
  }),
  /** Dashboard bounds and intervals (src/dashboard/settings.ts, where the defaults live). */
  dashboard: settingsSection(DEFAULT_DASHBOARD_SETTINGS, {
    maxStreams: positiveInt,
    maxStreamUnwrittenBytes: positiveInt.min(4096),
    flushIntervalMs: positiveInt.min(50),
    maxCheckinsPerFlush: positiveInt,
    maxBufferedCheckins: positiveInt,
    heartbeatIntervalMs: positiveInt,
    serverIntervalMs: positiveInt.min(100),
    pollTimeoutMs: positiveInt,
    maxSnapshotPoints: positiveInt,
    maxSnapshotCells: positiveInt,
    snapshotSliceMs: positiveInt,
    maxSnapshotRequests: positiveInt,
    maxLookupsInFlight: positiveInt,
    allowedHosts: z.array(z.string().min(1)),
  }),
  /** Who may read the admin ports (src/config/admin-config.ts). */
  admin: adminConfigSchema,
});

/** A validated herd config, defaults filled in. */
export type HerdConfig = z.output<typeof herdConfigSchema>;
/** One server of a {@link HerdConfig}. */
export type ServerConfig = HerdConfig['servers'][number];
