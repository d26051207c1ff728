/**
 * The build step that writes the dashboard's country outlines (./world.ts) into `COUNTRIES_FILE`
 * (./http.ts): `npm run build` runs `node dist/dashboard/build-world.js` after `tsc`, so no server
 * computes them, nor loads d3-geo or topojson-client.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { COUNTRIES_FILE } from './http.js';
import { worldCountries } from './world.js';

const started = performance.now();
const json = JSON.stringify(await worldCountries());
await mkdir(path.dirname(COUNTRIES_FILE), { recursive: true });
// Written whole, then renamed: a server reading it meanwhile never sees half a file.
await writeFile(`${COUNTRIES_FILE}.tmp-${process.pid}`, json);
await rename(`${COUNTRIES_FILE}.tmp-${process.pid}`, COUNTRIES_FILE);
process.stdout.write(
  `built ${COUNTRIES_FILE}: ${(json.length / 1024).toFixed(0)} KB of country outlines in ${Math.round(performance.now() - started)} ms\n`,
);
