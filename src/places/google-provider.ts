/**
 * The Google places sources behind coalescing and the optional cache, in a module of their own so
 * that a server with the offline source never loads them (src/cli/serve.ts imports this one only
 * when a Google source is configured).
 */
import type { Logger } from '../observability/logger.js';
import { CoalescingPlacesProvider } from './coalescing.js';
import type { FetchFunction } from './google-http.js';
import { GoogleLegacyPlacesProvider } from './google-legacy.js';
import { GoogleNewPlacesProvider } from './google-new.js';
import type { GooglePlacesSettings } from './settings.js';

/** A Google source from resolved settings, behind coalescing (and the cache when enabled). */
export function createGooglePlacesProvider(
  settings: GooglePlacesSettings,
  options: { readonly logger?: Logger; readonly fetch?: FetchFunction } = {},
): CoalescingPlacesProvider {
  const common = {
    apiKey: settings.apiKey,
    baseUrl: settings.baseUrl,
    timeoutMs: settings.timeoutMs,
    retry: settings.retry,
    logger: options.logger,
    fetch: options.fetch,
  };
  const inner =
    settings.source === 'google'
      ? new GoogleLegacyPlacesProvider(common)
      : new GoogleNewPlacesProvider({ ...common, fields: settings.newFields });
  return new CoalescingPlacesProvider(inner, {
    locationDecimals: settings.locationDecimals,
    // Only Places API (New) sends the bound upstream (maxResultCount); legacy always returns a page of up to 20.
    limitInKey: settings.source === 'google-new',
    cache: settings.cache.enabled ? { ttlMs: settings.cache.ttlMs, maxEntries: settings.cache.maxEntries } : undefined,
  });
}
