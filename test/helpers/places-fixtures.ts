/**
 * Test inputs for `herd places import`, written by the tests into their own temporary folder:
 * GeoNames rows (the 19 columns of geonames.org/export/dump's readme, "geoname"), admin code files,
 * a zip as GeoNames ships one (`XX.zip` holding `XX.txt` and `readme.txt`, made with yazl) and GeoJSON.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after } from 'node:test';
import { tempFolder } from './temp-folder.js';
import yazl from 'yazl';
import { importPlaces, type ImportOptions } from '../../src/places/import/import-places.js';
import { OfflinePlacesProvider } from '../../src/places/offline/offline-provider.js';

/** One GeoNames row; unset columns are empty. */
export interface GeoNamesRow {
  id: number;
  name: string;
  lat: number;
  lng: number;
  featureClass: string;
  featureCode: string;
  alternateNames?: readonly string[];
  country?: string;
  admin1?: string;
  admin2?: string;
  population?: number;
}

/** The row as a dump line (no newline). */
export function geoNamesLine(row: GeoNamesRow): string {
  return [
    String(row.id),
    row.name,
    row.name,
    (row.alternateNames ?? []).join(','),
    row.lat.toFixed(5),
    row.lng.toFixed(5),
    row.featureClass,
    row.featureCode,
    row.country ?? 'US',
    '',
    row.admin1 ?? 'CA',
    row.admin2 ?? '037',
    '',
    '',
    String(row.population ?? 0),
    '',
    '87',
    'America/Los_Angeles',
    '2024-03-01',
  ].join('\t');
}

/** Alternate names, `n` of them. */
export const alternates = (n: number): string[] => Array.from({ length: n }, (_, i) => `Alt ${i}`);

/** Near UCLA: one feature of every GeoNames feature class, and a few of the coded establishments. */
export const UCLA = { latitude: 34.06893, longitude: -118.445127 } as const;
export const LA_ROWS: readonly GeoNamesRow[] = [
  {
    id: 5368361,
    name: 'Los Angeles',
    lat: 34.05223,
    lng: -118.24368,
    featureClass: 'P',
    featureCode: 'PPLA2',
    population: 3_971_883,
    alternateNames: ['LA', 'L.A.'],
  },
  {
    id: 5393212,
    name: 'Santa Monica',
    lat: 34.01949,
    lng: -118.49138,
    featureClass: 'P',
    featureCode: 'PPL',
    population: 93_220,
  },
  {
    id: 1000001,
    name: 'Westwood',
    lat: 34.05612,
    lng: -118.43063,
    featureClass: 'P',
    featureCode: 'PPLX',
    alternateNames: alternates(1),
  },
  {
    id: 1000002,
    name: 'Hotel Angeleno',
    lat: 34.06556,
    lng: -118.4722,
    featureClass: 'S',
    featureCode: 'HTL',
    alternateNames: alternates(3),
  },
  {
    id: 1000003,
    name: 'University High School',
    lat: 34.04528,
    lng: -118.45333,
    featureClass: 'S',
    featureCode: 'SCH',
  },
  {
    id: 1000004,
    name: 'University of California, Los Angeles',
    lat: 34.07222,
    lng: -118.44139,
    featureClass: 'S',
    featureCode: 'UNIV',
    alternateNames: alternates(12),
  },
  {
    id: 1000005,
    name: 'Ronald Reagan UCLA Medical Center',
    lat: 34.06611,
    lng: -118.44611,
    featureClass: 'S',
    featureCode: 'HSP',
    alternateNames: alternates(2),
  },
  {
    id: 1000006,
    name: 'Los Angeles International Airport',
    lat: 33.9425,
    lng: -118.40806,
    featureClass: 'S',
    featureCode: 'AIRP',
    alternateNames: alternates(40),
  },
  { id: 1000007, name: 'Holmby Park', lat: 34.07, lng: -118.42, featureClass: 'L', featureCode: 'PRK' },
  {
    id: 1000008,
    name: 'Hammer Museum',
    lat: 34.05944,
    lng: -118.44361,
    featureClass: 'S',
    featureCode: 'MUS',
    alternateNames: alternates(5),
  },
  { id: 1000009, name: 'Stone Canyon Reservoir', lat: 34.1, lng: -118.45, featureClass: 'H', featureCode: 'RSV' },
  {
    id: 1000010,
    name: 'Mount Lee',
    lat: 34.13417,
    lng: -118.32083,
    featureClass: 'T',
    featureCode: 'MT',
    alternateNames: alternates(1),
  },
  {
    id: 1000011,
    name: 'Los Angeles County',
    lat: 34.19801,
    lng: -118.26102,
    featureClass: 'A',
    featureCode: 'ADM2',
    population: 10_014_009,
  },
  { id: 1000012, name: 'Sunset Boulevard', lat: 34.0833, lng: -118.35, featureClass: 'R', featureCode: 'RD' },
  { id: 1000013, name: 'Santa Monica Basin', lat: 33.6, lng: -119.0, featureClass: 'U', featureCode: 'BSNU' },
  { id: 1000014, name: 'Angeles National Forest', lat: 34.25, lng: -118.2, featureClass: 'V', featureCode: 'FRST' },
  // Equal prominence (3 alternate names each), 1 km and 3 km east of UCLA: the nearer ranks first.
  {
    id: 1000015,
    name: 'Cafe Near',
    lat: 34.06893,
    lng: -118.43425,
    featureClass: 'S',
    featureCode: 'REST',
    alternateNames: alternates(3),
  },
  {
    id: 1000016,
    name: 'Cafe Far',
    lat: 34.06893,
    lng: -118.41251,
    featureClass: 'S',
    featureCode: 'REST',
    alternateNames: alternates(3),
  },
];

/** `admin1CodesASCII.txt` and `admin2Codes.txt` content for the LA rows. */
export const ADMIN1 = 'US.CA\tCalifornia\tCalifornia\t5332921\nUS.NY\tNew York\tNew York\t5128638\n';
export const ADMIN2 = 'US.CA.037\tLos Angeles County\tLos Angeles County\t5368381\n';

/** A readme in the spirit of the one GeoNames puts in every country zip. */
export const README =
  'Readme for GeoNames Gazetteer extract files\n\nThe main geoname table has the following fields: geonameid, name, ...\n';

/** Writes a zip with the given entries (name -> content), deflated as GeoNames' zips are. */
export async function writeZip(file: string, entries: Record<string, string>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) zip.addBuffer(Buffer.from(content, 'utf8'), name);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
}

/** A GeoJSON FeatureCollection of the given features. */
export function featureCollection(features: readonly unknown[]): string {
  return `${JSON.stringify({ type: 'FeatureCollection', features }, null, 1)}\n`;
}

/** A GeoJSON Point feature. */
export function point(lng: number, lat: number, properties: Record<string, unknown>, id?: string | number): unknown {
  return {
    type: 'Feature',
    ...(id === undefined ? {} : { id }),
    geometry: { type: 'Point', coordinates: [lng, lat] },
    properties,
  };
}

/** A fresh temporary folder; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-places-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `content` to `dir/name` and returns the path. */
export async function put(dir: string, name: string, content: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

/** {@link LA_ROWS} as a GeoNames dump (one line each, newline-terminated). */
export const LA_DUMP = `${LA_ROWS.map(geoNamesLine).join('\n')}\n`;

/**
 * For the calling `describe()`: a fresh folder (`dir`, made before its tests), `importAndOpen` (an
 * import, then its data file opened) and `track` (a provider opened by the test); after its tests,
 * every provider is closed and the folder removed.
 */
export function importFolder(): {
  readonly dir: string;
  importAndOpen: (options: ImportOptions) => Promise<OfflinePlacesProvider>;
  track: (provider: OfflinePlacesProvider) => Promise<OfflinePlacesProvider>;
} {
  const providers: OfflinePlacesProvider[] = [];
  // Registered first, so that its after() (removing the folder) runs after the one closing the providers.
  const folder = tempFolder('herd-places-test-');
  after(async () => {
    for (const provider of providers.splice(0)) await provider.close();
  });
  const track = async (provider: OfflinePlacesProvider): Promise<OfflinePlacesProvider> => {
    providers.push(provider);
    await provider.ready();
    return provider;
  };
  return {
    get dir(): string {
      return folder.dir;
    },
    track,
    importAndOpen: async (options) => {
      await importPlaces(options);
      return track(new OfflinePlacesProvider({ file: options.out }));
    },
  };
}
