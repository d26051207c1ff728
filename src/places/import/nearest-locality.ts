/**
 * The `vicinity` of an imported place whose input gives none (a GeoJSON feature without an address):
 * the nearest populated place of the built-in data, as `<name>, <country code>` ("Reykjavík, IS"),
 * found with the offline search's own index (docs/places.md "Vicinity"). Google's Nearby Search
 * results carry a `vicinity`, and clients index it.
 */

import { loadPlacesData, readRecord, type PlacesData } from '../offline/data-file.js';
import { PlacesSearch } from '../offline/search.js';
import { DEFAULT_PLACES_DATA_FILE } from '../settings.js';

/** The built-in data, open for nearest-locality look-ups. Close it when done. */
export class NearestLocality {
  private readonly search: PlacesSearch;
  private readonly scratch = Buffer.alloc(4096);

  private constructor(private readonly data: PlacesData) {
    this.search = new PlacesSearch(data);
  }

  /**
   * Opens the built-in data file (built by `npm run build`).
   *
   * @param file - @default {@link DEFAULT_PLACES_DATA_FILE}
   * @throws {PlacesDataError} when it is missing or not a data file (src/errors.ts).
   */
  static async open(file = DEFAULT_PLACES_DATA_FILE): Promise<NearestLocality> {
    return new NearestLocality(await loadPlacesData(file));
  }

  /** The vicinity of the populated place nearest to the point, or `undefined` when the data has none. */
  vicinityAt(lat: number, lng: number): string | undefined {
    const i = this.search.nearest(lat, lng);
    if (i < 0) return undefined;
    const record = readRecord(this.data, i, this.scratch);
    return record.vicinity ?? record.name;
  }

  async close(): Promise<void> {
    await this.data.handle.close();
  }
}
