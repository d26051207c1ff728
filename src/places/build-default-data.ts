/**
 * The build step that writes the built-in offline data file (default-data.ts): `npm run build` runs
 * `node dist/places/build-default-data.js` after `tsc`.
 */
import { buildDefaultPlacesData } from './default-data.js';
import { DEFAULT_PLACES_DATA_FILE } from './settings.js';

const started = performance.now();
const { header, built } = await buildDefaultPlacesData();
const ms = Math.round(performance.now() - started);
process.stdout.write(
  built
    ? `built ${DEFAULT_PLACES_DATA_FILE}: ${header.count} places in ${ms} ms\n`
    : `${DEFAULT_PLACES_DATA_FILE} is up to date (${header.count} places)\n`,
);
