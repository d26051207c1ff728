/**
 * The places source of `herd serve`: opened before the ports accept (its data read on libuv's
 * threads while the store opens), and ready or logged as failed, never thrown (docs/places.md).
 */
import type { Logger } from '../observability/logger.js';
import { OfflinePlacesProvider } from '../places/offline/offline-provider.js';
import type { PlacesProvider } from '../places/provider.js';
import type { PlacesSettings } from '../places/settings.js';

/**
 * The places source of `settings`. The Google sources (and their HTTP client) are loaded only when
 * one is configured; their settings, the key included, were checked by `resolvePlacesSettings`.
 */
export async function openPlacesProvider(settings: PlacesSettings, logger: Logger): Promise<PlacesProvider> {
  if (settings.source === 'offline') return new OfflinePlacesProvider({ file: settings.dataFile });
  const { createGooglePlacesProvider } = await import('../places/google-provider.js');
  return createGooglePlacesProvider(settings, { logger });
}

/**
 * Loads the place data (or whatever the source prepares); a failure is logged (unless the server is
 * stopping: closing the source cut the load short), never thrown.
 */
export async function preparePlaces(places: PlacesProvider, logger: Logger, stopping: () => boolean): Promise<void> {
  const started = performance.now();
  try {
    await places.ready?.();
    logger.info(
      { event: 'places-ready', source: places.source, ms: Math.round(performance.now() - started) },
      'places source ready',
    );
  } catch (error) {
    if (stopping()) return;
    // WHATSATs answer UNKNOWN_ERROR with the reason; the herd still takes and floods locations.
    logger.error({ event: 'places-failed', source: places.source, err: String(error) }, 'places source failed to load');
  }
}
