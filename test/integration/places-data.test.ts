/**
 * Issue 11 through the real CLI (`dist/bundle/main.js`): `herd places import` writes a data file (exit 0
 * and a summary; a malformed line exits 1 naming file, line and field, with nothing written), and a
 * herd started with `places.data`, or `--places-data` (which `herd start` passes on to the servers it
 * forks), answers WHATSAT over TCP from the imported places. The --skip-invalid summary and an
 * unknown input are read in process (importPlaces): their exit codes' paths run here or in cli-mistakes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { formatImportSummary } from '../../src/cli/places.js';
import { HerdError, exitCodeOf } from '../../src/errors.js';
import { GEONAMES_ATTRIBUTION } from '../../src/places/attributions.js';
import { importPlaces } from '../../src/places/import/import-places.js';
import { RunningHerd, exchange, tempHerdConfig } from '../helpers/herd-process.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import {
  ADMIN1,
  ADMIN2,
  LA_ROWS,
  README,
  featureCollection,
  geoNamesLine,
  point,
  put,
  writeZip,
} from '../helpers/places-fixtures.js';

/** Runs the CLI to completion. */
const herd = (args: string[]): Promise<CliResult> => runCli(args);

interface Whatsat {
  html_attributions: string[];
  status: string;
  results: { name: string; place_id: string; types: string[]; vicinity?: string }[];
}

/** IAMAT at UCLA, then WHATSAT: the Nearby Search document of the reply. */
async function whatsatAtUcla(port: number, clientId: string, radiusKm: number, bound: number): Promise<Whatsat> {
  const seconds = Math.floor(Date.now() / 1000);
  const reply = await exchange(
    port,
    `IAMAT ${clientId} +34.068930-118.445127 ${seconds}.0\nWHATSAT ${clientId} ${radiusKm} ${bound}\n`,
  );
  const json = reply.slice(reply.indexOf('{'));
  assert.ok(json.endsWith('}\n\n'), reply.slice(-200));
  return JSON.parse(json) as Whatsat;
}

describe('herd places import and a herd serving its data file', { timeout: 120_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let configFile: string;
  let laPlaces: string;
  let poiPlaces: string;

  before(async () => {
    const temp = await tempHerdConfig({ servers: ['Alford'], links: [], extra: { places: { data: 'la.places' } } });
    ({ dir, cleanup, configFile } = temp);
    const zip = path.join(dir, 'US.zip');
    await writeZip(zip, { 'US.txt': `${LA_ROWS.map(geoNamesLine).join('\n')}\n`, 'readme.txt': README });
    await put(dir, 'admin1CodesASCII.txt', ADMIN1);
    await put(dir, 'admin2Codes.txt', ADMIN2);
    laPlaces = path.join(dir, 'la.places');
    poiPlaces = path.join(dir, 'pois.places');
    await put(
      dir,
      'pois.geojson',
      featureCollection([point(-118.4452, 34.0689, { name: 'Blue Bottle Coffee', types: ['cafe'], prominence: 7 })]),
    );
  });
  after(() => cleanup?.());

  test('herd places import: exit 0 and a summary of what was read, kept and written', async () => {
    const { code, stdout, stderr } = await herd([
      'places',
      'import',
      path.join(dir, 'US.zip'),
      path.join(dir, 'admin1CodesASCII.txt'),
      path.join(dir, 'admin2Codes.txt'),
      '--out',
      laPlaces,
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '', 'no progress bar when stderr is not a terminal');
    assert.match(
      stdout,
      new RegExp(`^read ${LA_ROWS.length} features from 3 inputs in [\\d.]+ s \\([\\d,]+ features/s\\)$`, 'm'),
    );
    assert.match(stdout, new RegExp(`US\\.zip: ${LA_ROWS.length} read, ${LA_ROWS.length} kept, 0 skipped`));
    assert.match(stdout, /^skipped 0$/m);
    assert.match(stdout, new RegExp(`^wrote ${laPlaces.replace(/[.]/g, '\\.')}: ${LA_ROWS.length} places, `, 'm'));
    assert.match(stdout, /attribution: Place data from <a href="https:\/\/www\.geonames\.org\/">GeoNames<\/a>/);
    const geojson = await herd(['places', 'import', path.join(dir, 'pois.geojson'), '-o', poiPlaces]);
    assert.equal(geojson.code, 0, geojson.stderr);
  });

  test('a malformed line: exit 1, the error names file, line and field, nothing written', async () => {
    const lines = LA_ROWS.map(geoNamesLine);
    lines[4] = (lines[4] as string).replace('\tS\tSCH\t', '\tS\tschool!\t');
    const bad = await put(dir, 'bad.txt', `${lines.join('\n')}\n`);
    const out = path.join(dir, 'bad.places');
    const { code, stdout, stderr } = await herd(['places', 'import', bad, '--out', out]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `herd: ${bad}: line 5: feature code: "school!" is not a GeoNames feature code; fix it, or run again with --skip-invalid to skip and count such lines\n`,
    );
    assert.ok(!(await readdir(dir)).some((name) => name.startsWith('bad.places')), 'nothing at --out');
    // In process: the import's summary and its mistakes; the command's exit codes 0 and 2 run in
    // the test above and in cli-mistakes.
    const skipping = formatImportSummary(await importPlaces({ inputs: [bad], out, skipInvalid: true }));
    assert.match(skipping, /^ {2}invalid feature code: 1 \(first: .*bad\.txt: line 5: feature code: /m);
    await assert.rejects(
      importPlaces({ inputs: [await put(dir, 'pois.csv', 'name,lat,lng\n')], out }),
      (error: unknown) =>
        error instanceof HerdError && exitCodeOf(error) === 2 && /pois\.csv: unknown input/.test(error.message),
    );
  });

  test('a herd with places.data answers WHATSAT over TCP from the imported places', async () => {
    const running = await RunningHerd.start(configFile);
    try {
      const doc = await whatsatAtUcla(running.port('Alford'), 'kiwi.cs.ucla.edu', 10, 5);
      assert.equal(doc.status, 'OK');
      assert.deepEqual(doc.html_attributions, [GEONAMES_ATTRIBUTION]);
      assert.deepEqual(
        doc.results.map((r) => [r.name, r.types[0]]),
        [
          ['Santa Monica', 'locality'],
          ['University of California, Los Angeles', 'university'],
          ['Hammer Museum', 'museum'],
          ['Cafe Near', 'restaurant'],
          ['Hotel Angeleno', 'lodging'],
        ],
      );
      assert.equal(doc.results[4]?.vicinity, 'Los Angeles County, California, US');
      assert.equal(doc.results[4]?.place_id, 'geonames:1000002');
      const far = await exchange(
        running.port('Alford'),
        'IAMAT far +00.000000+000.000000 1700000000.0\nWHATSAT far 50 20\n',
      );
      assert.match(far, /"status" : "ZERO_RESULTS"/);
    } finally {
      await running.stop();
    }
  });

  test('herd start --places-data wins over places.data and reaches the servers it forks', async () => {
    const running = await RunningHerd.start(configFile, ['--places-data', poiPlaces]);
    try {
      const doc = await whatsatAtUcla(running.port('Alford'), 'kiwi.cs.ucla.edu', 10, 20);
      assert.deepEqual(
        doc.results.map((r) => r.name),
        ['Blue Bottle Coffee'],
      );
      assert.deepEqual(doc.results[0]?.types, ['cafe']);
    } finally {
      await running.stop();
    }
  });

  test('a data file that cannot be read stops herd serve and herd start with exit code 2', async () => {
    const missing = path.join(dir, 'missing.places');
    for (const command of ['serve Alford', 'start']) {
      const { code, stderr } = await herd([...command.split(' '), '--config', configFile, '--places-data', missing]);
      assert.equal(code, 2, `${command}: ${stderr}`);
      assert.match(stderr, new RegExp(`places data file ${missing.replace(/[.]/g, '\\.')}: cannot read \\(ENOENT\\)`));
    }
  });
});
