/**
 * `herd places import` refusing bad input: a malformed line or feature names file, line (or
 * feature) and field and leaves nothing behind; a name over MAX_TEXT_BYTES is refused;
 * `--skip-invalid` counts instead; unknown or missing inputs are usage errors.
 */
import { MAX_TEXT_BYTES } from '../../src/places/offline/data-format.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ImportError, UsageError } from '../../src/errors.js';
import { importPlaces, inputKind } from '../../src/places/import/import-places.js';
import { loadPlacesData } from '../../src/places/offline/data-file.js';
import {
  LA_DUMP as DUMP,
  LA_ROWS,
  README,
  featureCollection,
  geoNamesLine,
  type GeoNamesRow,
  importFolder,
  point,
  put,
  writeZip,
} from '../helpers/places-fixtures.js';

/** What an import stopped by an invalid line or feature adds to its message. */
const SKIP_LINES = '; fix it, or run again with --skip-invalid to skip and count such lines';
const SKIP_FEATURES = '; fix it, or run again with --skip-invalid to skip and count such features';

/** Files in `dir` other than those named. */
async function leftovers(dir: string, expected: readonly string[]): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !expected.includes(name));
}

describe('herd places import: bad input', () => {
  const folder = importFolder();
  const { importAndOpen } = folder;

  test('a malformed line stops the import naming file, line and field; nothing is left at --out', async () => {
    const sub = path.join(folder.dir, 'bad');
    await mkdir(sub);
    const lines = DUMP.split('\n');
    lines[2] = (lines[2] as string).replace('34.05612', '91.5');
    const bad = await put(sub, 'bad.txt', lines.join('\n'));
    const out = path.join(sub, 'out.places');
    await assert.rejects(importPlaces({ inputs: [bad], out }), (error: unknown) => {
      assert.ok(error instanceof ImportError);
      assert.equal(error.message, `${bad}: line 3: latitude: "91.5" is not a number in [-90, 90]${SKIP_LINES}`);
      assert.equal(error.file, bad);
      assert.equal(error.line, 3);
      assert.equal(error.field, 'latitude');
      return true;
    });
    assert.deepEqual(await leftovers(sub, ['bad.txt']), [], 'no data file, temporary file or run folder');
    // An existing data file is left as it was.
    await writeFile(out, 'previous');
    await assert.rejects(importPlaces({ inputs: [bad], out }), ImportError);
    assert.equal(await readFile(out, 'utf8'), 'previous');
    assert.deepEqual(await leftovers(sub, ['bad.txt', 'out.places']), []);
  });

  test('a malformed line inside a zip is named by zip and entry; a short row names the columns', async () => {
    const zip = path.join(folder.dir, 'BAD.zip');
    await writeZip(zip, {
      'BAD.txt': `${geoNamesLine(LA_ROWS[0] as GeoNamesRow)}\n5\tOnly three\tcolumns\n`,
      'readme.txt': README,
    });
    await assert.rejects(importPlaces({ inputs: [zip], out: path.join(folder.dir, 'bad-zip.places') }), {
      name: 'ImportError',
      message: `${zip}:BAD.txt: line 2: columns: expected 19 tab-separated columns, found 3${SKIP_LINES}`,
    });
  });

  test(`a name of exactly MAX_TEXT_BYTES (${MAX_TEXT_BYTES}) UTF-8 bytes is kept whole; one byte more is refused`, async () => {
    // Two-byte characters: the bound is on bytes, not on the string's length.
    const fits = 'é'.repeat(MAX_TEXT_BYTES / 2);
    const kept = await put(folder.dir, 'long-name.geojson', featureCollection([point(-118.44, 34.07, { name: fits })]));
    const provider = await importAndOpen({ inputs: [kept], out: path.join(folder.dir, 'long-name.places') });
    const answer = await provider.nearby({ latitude: 34.07, longitude: -118.44 }, 1000, 1);
    assert.equal(answer.results[0]?.name, fits);
    const over = await put(folder.dir, 'too-long.geojson', featureCollection([point(1, 2, { name: `${fits}e` })]));
    await assert.rejects(importPlaces({ inputs: [over], out: path.join(folder.dir, 'too-long.places') }), {
      message: `${over}: feature 0: properties.name: required: a non-empty string of at most ${MAX_TEXT_BYTES} bytes${SKIP_FEATURES}`,
    });
  });

  test('malformed GeoJSON names the file, the feature index and the property', async () => {
    const noName = await put(
      folder.dir,
      'no-name.geojson',
      featureCollection([point(1, 2, { name: 'ok' }), point(1, 2, {})]),
    );
    await assert.rejects(importPlaces({ inputs: [noName], out: path.join(folder.dir, 'x.places') }), {
      name: 'ImportError',
      message: `${noName}: feature 1: properties.name: required: a non-empty string of at most 4096 bytes${SKIP_FEATURES}`,
    });
    const badCoords = await put(
      folder.dir,
      'bad-coords.geojson',
      featureCollection([point(200, 2, { name: 'far east' })]),
    );
    await assert.rejects(importPlaces({ inputs: [badCoords], out: path.join(folder.dir, 'x.places') }), {
      message: `${badCoords}: feature 0: geometry.coordinates: not [longitude, latitude] in [-180, 180] x [-90, 90]${SKIP_FEATURES}`,
    });
    const broken = await put(
      folder.dir,
      'broken.geojson',
      '{"type":"FeatureCollection","features":[{"type":"Feature",,]}',
    );
    await assert.rejects(
      importPlaces({ inputs: [broken], out: path.join(folder.dir, 'x.places') }),
      (error: unknown) => {
        assert.ok(error instanceof ImportError);
        assert.equal(error.message, `${broken}: feature 0: not valid JSON at offset 58: unexpected ","`);
        return true;
      },
    );
    const cut = await put(
      folder.dir,
      'cut.geojson',
      featureCollection([point(1, 2, { name: 'cut short' })]).slice(0, 90),
    );
    await assert.rejects(importPlaces({ inputs: [cut], out: path.join(folder.dir, 'x.places') }), {
      message: `${cut}: feature 0: the file ends after 90 bytes, inside the JSON (truncated? export or download it again)`,
    });
    const notCollection = await put(folder.dir, 'feature.geojson', JSON.stringify(point(1, 2, { name: 'x' })));
    await assert.rejects(importPlaces({ inputs: [notCollection], out: path.join(folder.dir, 'x.places') }), {
      message: `${notCollection}: type: expected a GeoJSON FeatureCollection, found "Feature"`,
    });
    await assert.rejects(stat(path.join(folder.dir, 'x.places')), { code: 'ENOENT' });
  });

  test('--skip-invalid counts malformed lines and features by field and keeps the rest', async () => {
    const lines = DUMP.trimEnd().split('\n');
    lines[1] = (lines[1] as string).replace('-118.49138', 'west');
    lines[4] = 'not\ta\trow';
    lines.splice(6, 0, '');
    const dump = await put(folder.dir, 'some-bad.txt', `${lines.join('\n')}\n`);
    const geojson = await put(
      folder.dir,
      'some-bad.geojson',
      featureCollection([point(1, 2, { name: '' }), point(1, 2, { name: 'ok' })]),
    );
    const out = path.join(folder.dir, 'skip.places');
    const summary = await importPlaces({ inputs: [dump, geojson], out, skipInvalid: true });
    assert.equal(summary.kept, LA_ROWS.length - 2 + 1);
    assert.deepEqual(summary.skipped, {
      'invalid longitude': 1,
      'invalid columns': 1,
      'blank line': 1,
      'invalid properties.name': 1,
    });
    assert.equal(
      summary.examples['invalid longitude'],
      `${dump}: line 2: longitude: "west" is not a number in [-180, 180]`,
    );
    assert.equal(summary.inputs[0]?.read, LA_ROWS.length + 1);
    const data = await loadPlacesData(out);
    await data.handle.close();
    assert.equal(data.count, summary.kept);
  });

  test('inputs are recognised by name; unknown or missing ones are usage errors', async () => {
    assert.equal(inputKind('admin1CodesASCII.txt'), 'admin1');
    assert.equal(inputKind('x/admin2Codes.txt'), 'admin2');
    assert.equal(inputKind('allCountries.zip'), 'geonames-zip');
    assert.equal(inputKind('US.txt'), 'geonames');
    assert.equal(inputKind('pois.geojson'), 'geojson');
    assert.equal(inputKind('pois.json'), 'geojson');
    assert.throws(() => inputKind('pois.csv'), UsageError);
    await assert.rejects(
      importPlaces({ inputs: [path.join(folder.dir, 'missing.txt')], out: path.join(folder.dir, 'm.places') }),
      {
        name: 'UsageError',
        message: new RegExp('missing\\.txt: cannot read: ENOENT'),
      },
    );
    await assert.rejects(importPlaces({ inputs: [], out: path.join(folder.dir, 'm.places') }), UsageError);
  });
});
