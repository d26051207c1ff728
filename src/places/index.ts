/** Places sources, chosen by config (`places.source`) or `--places`; see docs/places.md. */
import type { Logger } from '../observability/logger.js';
import type { FetchFunction } from './google-http.js';
import { createGooglePlacesProvider } from './google-provider.js';
import { OfflinePlacesProvider } from './offline/offline-provider.js';
import type { PlacesProvider } from './provider.js';
import { resolvePlacesSettings, type PlacesConfig, type PlacesEnvironment, type PlacesSource } from './settings.js';

export * from './attributions.js';
export {
  OfflinePlacesProvider,
  RESULT_CACHE_BYTES,
  resultBytes,
  type OfflinePlacesProviderOptions,
} from './offline/offline-provider.js';
export { typesForFeatureCode, geoNamesProminence } from './import/geonames-types.js';
export * from './provider.js';
export * from './settings.js';
export * from './coalescing.js';
export * from './google-http.js';
export * from './google-failures.js';
export * from './google-key-scrub.js';
export * from './google-legacy.js';
export * from './google-new.js';
export * from './google-new-mapping.js';
export * from './google-provider.js';

/** Options of {@link createPlacesProvider}. */
export interface CreatePlacesProviderOptions {
  /** Where the key and base URL overrides are read. @default process.env */
  readonly env?: PlacesEnvironment;
  /** `--places`: wins over `places.source`. */
  readonly source?: PlacesSource;
  /** Where the Google sources log retries and upstream answers. */
  readonly logger?: Logger;
  /** @default globalThis.fetch */
  readonly fetch?: FetchFunction;
}

/**
 * Creates the places source a config asks for: `offline` (a data file, `places.data`), `google` (legacy
 * Nearby Search) or `google-new` (Places API (New)); the Google ones behind coalescing and the
 * optional cache ({@link CoalescingPlacesProvider}).
 *
 * @throws {UsageError} for a Google source without `GOOGLE_PLACES_API_KEY`, or with an unusable base
 *   URL (see {@link resolvePlacesSettings}).
 */
export function createPlacesProvider(places: PlacesConfig, options: CreatePlacesProviderOptions = {}): PlacesProvider {
  const settings = resolvePlacesSettings(places, options.env ?? process.env, options.source);
  switch (settings.source) {
    case 'offline':
      return new OfflinePlacesProvider({ file: settings.dataFile });
    case 'google':
    case 'google-new':
      return createGooglePlacesProvider(settings, options);
  }
}
