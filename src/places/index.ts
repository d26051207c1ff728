/** Places sources, chosen by config (`places.source`). */
import type { HerdConfig } from '../config/herd-config.js';
import { GeoNamesPlacesProvider } from './geonames.js';
import type { PlacesProvider } from './provider.js';

export { GeoNamesPlacesProvider, GEONAMES_ATTRIBUTION } from './geonames.js';
export * from './provider.js';

/** Creates the places source a config asks for. */
export function createPlacesProvider(places: HerdConfig['places']): PlacesProvider {
  switch (places.source) {
    case 'offline':
      return new GeoNamesPlacesProvider();
  }
}
