/**
 * The places scenario's data (bench/scenarios/places.ts): a synthetic GeoNames dump (the 19 columns of
 * geonames.org/export/dump's readme, realistic feature classes and codes, clustered coordinates, one
 * very dense area around Los Angeles) and a GeoJSON FeatureCollection with OpenStreetMap-like
 * properties, both reproducible from a seed.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { seededRandom } from '../../test/helpers/seeded-random.js';

/** GeoNames rows of the generated dump, full run / `--quick`. */
export const PLACES_DUMP_ROWS = 2_000_000;
export const PLACES_DUMP_ROWS_QUICK = 20_000;
/** The dense area: Los Angeles, where a twentieth of the rows lie within about 10 km. */
export const DENSE_CENTER = { latitude: 34.0522, longitude: -118.2437 } as const;

type Weighted = readonly (readonly [string, number])[];

function pick(rand: () => number, table: Weighted): string {
  let r = rand() * table.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, weight] of table) if ((r -= weight) <= 0) return value;
  return (table[table.length - 1] as readonly [string, number])[0];
}

// Feature classes and codes weighted roughly as in allCountries (geonames.org/export/codes.html).
const CLASSES: Weighted = [
  ['P', 37],
  ['H', 20],
  ['T', 19],
  ['S', 15],
  ['L', 4],
  ['A', 3],
  ['V', 1],
  ['R', 0.5],
  ['U', 0.5],
];
const CODES: Readonly<Record<string, Weighted>> = {
  P: [
    ['PPL', 90],
    ['PPLX', 5],
    ['PPLA4', 2],
    ['PPLA3', 1],
    ['PPLA2', 1],
    ['PPLL', 1],
  ],
  H: [
    ['STM', 50],
    ['LK', 15],
    ['SPNG', 10],
    ['WLL', 10],
    ['RSV', 5],
    ['BAY', 5],
    ['CNL', 5],
  ],
  T: [
    ['HLL', 35],
    ['MT', 30],
    ['PK', 10],
    ['VAL', 10],
    ['ISL', 10],
    ['CAPE', 5],
  ],
  S: [
    ['SCH', 30],
    ['CH', 20],
    ['HTL', 10],
    ['FRM', 10],
    ['BLDG', 8],
    ['HSP', 3],
    ['REST', 3],
    ['RSTN', 3],
    ['MUS', 2],
    ['MSQE', 2],
    ['PO', 2],
    ['AIRP', 1],
    ['LIBR', 1],
    ['STDM', 1],
    ['MALL', 1],
    ['BUSTN', 1],
    ['UNIV', 1],
    ['ZOO', 0.1],
  ],
  L: [
    ['PRK', 40],
    ['AREA', 30],
    ['LCTY', 30],
  ],
  A: [
    ['ADM4', 40],
    ['ADM3', 40],
    ['ADM2', 20],
  ],
  V: [['FRST', 1]],
  R: [['RD', 1]],
  U: [['SMU', 1]],
};

/** Cluster centres: latitude, longitude, country, admin1, time zone, share of rows, spread in degrees. */
const CLUSTERS: readonly (readonly [number, number, string, string, string, number, number])[] = [
  [DENSE_CENTER.latitude, DENSE_CENTER.longitude, 'US', 'CA', 'America/Los_Angeles', 5, 0.08],
  [40.7128, -74.006, 'US', 'NY', 'America/New_York', 2, 0.3],
  [41.8781, -87.6298, 'US', 'IL', 'America/Chicago', 1, 0.3],
  [51.5074, -0.1278, 'GB', 'ENG', 'Europe/London', 2, 0.4],
  [48.8566, 2.3522, 'FR', '11', 'Europe/Paris', 2, 0.4],
  [52.52, 13.405, 'DE', '16', 'Europe/Berlin', 1, 0.5],
  [35.6762, 139.6503, 'JP', '40', 'Asia/Tokyo', 2, 0.4],
  [19.076, 72.8777, 'IN', '16', 'Asia/Kolkata', 2, 0.5],
  [-23.5505, -46.6333, 'BR', '27', 'America/Sao_Paulo', 1, 0.5],
  [6.5244, 3.3792, 'NG', '05', 'Africa/Lagos', 1, 0.5],
  [-33.8688, 151.2093, 'AU', '02', 'Australia/Sydney', 1, 0.5],
  [19.4326, -99.1332, 'MX', '09', 'America/Mexico_City', 1, 0.5],
  [55.7558, 37.6173, 'RU', '48', 'Europe/Moscow', 1, 0.6],
  [39.9042, 116.4074, 'CN', '22', 'Asia/Shanghai', 2, 0.6],
  [-17.7134, 178.065, 'FJ', '01', 'Pacific/Fiji', 0.2, 0.8],
  [78.2232, 15.6267, 'SJ', '21', 'Arctic/Longyearbyen', 0.1, 1],
];

const SYLLABLES = [
  'ka',
  'ro',
  'mi',
  'san',
  'ta',
  'vel',
  'do',
  'ri',
  'bur',
  'ne',
  'os',
  'lin',
  'ha',
  'mor',
  'ze',
  'quil',
];
const ACCENTED: Readonly<Record<string, string>> = { a: 'á', o: 'ø', e: 'é', u: 'ü', i: 'í', n: 'ñ', l: 'ł' };

function syntheticName(rand: () => number): { name: string; ascii: string } {
  const words = 1 + Math.floor(rand() * 2.2);
  const parts: string[] = [];
  for (let w = 0; w < words; w++) {
    let word = '';
    for (let s = 0, n = 1 + Math.floor(rand() * 3); s < n; s++)
      word += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
    parts.push(word.charAt(0).toUpperCase() + word.slice(1));
  }
  const ascii = parts.join(' ');
  const name = rand() < 0.12 ? ascii.replace(/[aoeuinl]/, (c) => ACCENTED[c] ?? c) : ascii;
  return { name, ascii };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Writes a synthetic GeoNames dump: `rows` lines of the 19 tab-separated columns (readme, "geoname"),
 * 85% of them around {@link CLUSTERS}, the rest scattered over inhabited latitudes.
 *
 * @returns the file's size, bytes.
 */
export function writeSyntheticGeoNamesDump(file: string, rows: number, seed = 11): number {
  const rand = seededRandom(seed);
  const totalShare = CLUSTERS.reduce((sum, c) => sum + c[5], 0);
  const fd = openSync(file, 'w');
  let bytes = 0;
  let batch: string[] = [];
  const flush = (): void => {
    const buffer = Buffer.from(batch.join(''), 'utf8');
    writeSync(fd, buffer);
    bytes += buffer.length;
    batch = [];
  };
  try {
    for (let row = 0; row < rows; row++) {
      let lat: number;
      let lng: number;
      let country = '';
      let admin1 = '';
      let timezone = 'UTC';
      const clustered = rand() < 0.85;
      if (clustered) {
        let r = rand() * totalShare;
        let cluster = CLUSTERS[0] as (typeof CLUSTERS)[number];
        for (const c of CLUSTERS) {
          cluster = c;
          if ((r -= c[5]) <= 0) break;
        }
        // The dense area holds a twentieth of all rows whatever the other weights.
        if (rand() < 0.05) cluster = CLUSTERS[0] as (typeof CLUSTERS)[number];
        [lat, lng, country, admin1, timezone] = cluster;
        lat = Math.max(-90, Math.min(90, lat + gaussian(rand) * cluster[6]));
        lng += gaussian(rand) * cluster[6];
        if (lng > 180) lng -= 360;
        if (lng < -180) lng += 360;
      } else {
        lat = -55 + rand() * 125;
        lng = -180 + rand() * 360;
      }
      const featureClass = pick(rand, CLASSES);
      const featureCode = pick(rand, CODES[featureClass] as Weighted);
      const { name, ascii } = syntheticName(rand);
      const r = rand();
      const altCount =
        r < 0.65
          ? 0
          : r < 0.85
            ? 1 + Math.floor(rand() * 3)
            : r < 0.95
              ? 4 + Math.floor(rand() * 7)
              : 11 + Math.floor(rand() * 50);
      const alternates: string[] = [];
      for (let a = 0; a < altCount; a++) alternates.push(syntheticName(rand).name);
      const populated = (featureClass === 'P' && rand() < 0.4) || (featureClass === 'A' && rand() < 0.2);
      const population = populated ? Math.round(Math.exp(Math.log(50) + rand() * (Math.log(2e6) - Math.log(50)))) : 0;
      const admin2 = country === 'US' ? String(1 + Math.floor(rand() * 120)).padStart(3, '0') : '';
      const elevation = rand() < 0.1 ? String(Math.floor(rand() * 3000)) : '';
      const dem = String(Math.floor(rand() * 2500));
      const modified = `20${12 + Math.floor(rand() * 13)}-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`;
      batch.push(
        `${1_000_000 + row * 3 + Math.floor(rand() * 3)}\t${name}\t${ascii}\t${alternates.join(',')}\t${lat.toFixed(5)}\t${lng.toFixed(5)}\t${featureClass}\t${featureCode}\t${country}\t\t${admin1}\t${admin2}\t\t\t${population}\t${elevation}\t${dem}\t${timezone}\t${modified}\n`,
      );
      if (batch.length === 10_000) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Writes a GeoJSON FeatureCollection of `features` points (OpenStreetMap-like properties) near the dense area. */
export function writeSyntheticGeoJson(file: string, features: number, seed = 12): number {
  const rand = seededRandom(seed);
  const fd = openSync(file, 'w');
  let bytes = 0;
  const write = (text: string): void => {
    bytes += writeSync(fd, text);
  };
  try {
    write('{"type":"FeatureCollection","features":[\n');
    let batch: string[] = [];
    for (let i = 0; i < features; i++) {
      const feature = {
        type: 'Feature',
        id: `node/${100_000 + i}`,
        geometry: {
          type: 'Point',
          coordinates: [DENSE_CENTER.longitude + gaussian(rand) * 0.1, DENSE_CENTER.latitude + gaussian(rand) * 0.1],
        },
        properties: {
          name: syntheticName(rand).name,
          amenity: 'cafe',
          'addr:housenumber': String(1 + Math.floor(rand() * 900)),
          'addr:street': `${syntheticName(rand).ascii} Street`,
          'addr:city': 'Los Angeles',
          types: ['cafe', 'food', 'point_of_interest', 'establishment'],
        },
      };
      batch.push(`${i === 0 ? '' : ',\n'}${JSON.stringify(feature)}`);
      if (batch.length === 10_000) {
        write(batch.join(''));
        batch = [];
      }
    }
    write(`${batch.join('')}\n]}\n`);
  } finally {
    closeSync(fd);
  }
  return bytes;
}
