/**
 * Scenario places (issue 11): the offline places source at scale. It generates a synthetic GeoNames
 * dump (2M rows in a full run, 20k with `--quick`; the 19 columns of geonames.org/export/dump's readme,
 * realistic feature classes and codes, clustered coordinates, one very dense area around Los
 * Angeles), then:
 *
 * - imports it with `herd places import` (a child process): features/s and the importer's peak RSS;
 *   likewise a GeoJSON FeatureCollection of a tenth as many points;
 * - starts `herd serve` on the data file: time from spawn to the first WHATSAT answered;
 * - WHATSAT 10 km bound 20 from clients in the dense area, one at a time on one connection: p50/p99;
 * - the server's RSS afterwards;
 * - in this process: the load time of the built-in data file and of the imported one, with the
 *   longest the event loop was blocked meanwhile ({@link measureLoad}), and the search alone (p50/p99).
 *
 * Self-contained: the product is reached through src/places only.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { OfflinePlacesProvider } from '../../src/places/offline/offline-provider.js';
import { DEFAULT_PLACES_DATA_FILE } from '../../src/places/settings.js';
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import { CLI, benchDir, benchEnv, readRssBytes, startServe } from '../bench-processes.js';
import { formatIso6709 } from '../../src/protocol/location.js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from '../latency.js';
import { seededRandom } from '../seeded-random.js';

/** GeoNames rows of the generated dump, full run / `--quick`. */
export const PLACES_DUMP_ROWS = 2_000_000;
export const PLACES_DUMP_ROWS_QUICK = 20_000;
/** The dense area: Los Angeles, where a twentieth of the rows lie within about 10 km. */
export const DENSE_CENTER = { latitude: 34.0522, longitude: -118.2437 } as const;
/** Sequential WHATSATs measured, full run / `--quick`. */
const WHATSAT_SAMPLES = 3000;
const WHATSAT_SAMPLES_QUICK = 300;

/** Places figures, as `--json` reports them. */
export interface PlacesResult {
  readonly dump_rows: number;
  readonly dump_bytes: number;
  readonly import_ms: number;
  readonly import_features_per_s: number;
  readonly import_peak_rss_bytes: number;
  readonly data_file_bytes: number;
  readonly geojson_features: number;
  readonly geojson_features_per_s: number;
  /** From `spawn` of `herd serve` to the first WHATSAT answered from the imported file, ms. */
  readonly startup_to_answer_ms: number;
  /** WHATSAT 10 km bound 20 in the dense area, one at a time. */
  readonly whatsat: LatencySummary;
  readonly whatsat_results: number;
  readonly server_rss_bytes: number;
  readonly load_default_ms: number;
  readonly load_default_max_block_ms: number;
  readonly load_imported_ms: number;
  readonly load_imported_max_block_ms: number;
  /** The search alone, in this process, µs. */
  readonly search_p50_us: number;
  readonly search_p99_us: number;
}

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

/** Runs `herd places import` and returns its wall time and peak RSS (VmHWM, polled). */
async function runImport(inputs: readonly string[], out: string): Promise<{ ms: number; peakRss: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'places', 'import', ...inputs, '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: benchEnv(),
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  let peakRss = 0;
  const poll = setInterval(() => {
    readFile(`/proc/${child.pid ?? 0}/status`, 'utf8').then(
      (status) => {
        const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
        if (match !== null) peakRss = Math.max(peakRss, Number(match[1]) * 1024);
      },
      () => {},
    );
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(poll);
  if (code !== 0) throw new BenchError(`herd places import exited with ${code}:\n${output.slice(-1000)}`);
  return { ms: performance.now() - started, peakRss };
}

/** One connection that sends a line and waits for the reply, framed by a blank line (WHATSAT) or a newline. */
class LineClient {
  private buffered = '';
  private waiter: ((reply: string) => void) | undefined;
  private framing = '\n\n';

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      const end = this.buffered.indexOf(this.framing);
      if (end !== -1 && this.waiter !== undefined) {
        const reply = this.buffered.slice(0, end + this.framing.length);
        this.buffered = this.buffered.slice(end + this.framing.length);
        const waiter = this.waiter;
        this.waiter = undefined;
        waiter(reply);
      }
    });
  }

  static connect(host: string, port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new LineClient(socket)));
      socket.once('error', (error) => reject(new BenchError(`places: ${error.message}`, { cause: error })));
    });
  }

  ask(line: string, framing: '\n' | '\n\n'): Promise<string> {
    this.framing = framing;
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.socket.write(line);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Loads of each file in this process; the figures are the median time and the smallest longest block. */
const LOAD_RUNS = 5;

/**
 * Loads a data file in this process, {@link LOAD_RUNS} times, watching the event loop with an
 * immediate-callback probe. The longest gap between two probe turns during a load is an upper bound
 * of the longest synchronous stretch of the load plus whatever else delayed the loop (other processes
 * on a shared machine, GC). The code's own stretches are the same on every run, so the smallest of
 * the per-run maxima is the tighter bound reported.
 */
async function measureLoad(file: string): Promise<{ ms: number; maxBlockMs: number }> {
  const times: number[] = [];
  let maxBlockMs = Infinity;
  for (let run = 0; run < LOAD_RUNS; run++) {
    const provider = new OfflinePlacesProvider({ file });
    let done = false;
    let longest = 0;
    let last = performance.now();
    const probe = (async () => {
      while (!done) {
        await yieldToLoop();
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }
    })();
    const started = performance.now();
    await provider.ready();
    times.push(performance.now() - started);
    done = true;
    await probe;
    await provider.close();
    maxBlockMs = Math.min(maxBlockMs, longest);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] as number, maxBlockMs };
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Runs the places scenario (always locally: it measures the product, not a running herd). */
export async function runPlaces(context: BenchContext): Promise<PlacesResult> {
  const rows = context.quick ? PLACES_DUMP_ROWS_QUICK : PLACES_DUMP_ROWS;
  const samples = context.quick ? WHATSAT_SAMPLES_QUICK : WHATSAT_SAMPLES;
  const { dir, cleanup } = await benchDir();
  try {
    context.progress.update(`places: writing a ${rows.toLocaleString('en-US')}-row GeoNames dump`, true);
    const dump = path.join(dir, 'XX.txt');
    const dumpBytes = writeSyntheticGeoNamesDump(dump, rows);
    const dataFile = path.join(dir, 'xx.places');
    context.progress.update('places: herd places import', true);
    const imported = await runImport([dump], dataFile);
    const geojsonFeatures = Math.max(1000, Math.round(rows / 10));
    const geojson = path.join(dir, 'pois.geojson');
    writeSyntheticGeoJson(geojson, geojsonFeatures);
    const geojsonImport = await runImport([geojson], path.join(dir, 'pois.places'));

    context.progress.update('places: herd serve on the imported file', true);
    const configFile = path.join(dir, 'herd.json');
    await writeFile(
      configFile,
      `${JSON.stringify({
        servers: [{ name: 'Alford', host: '127.0.0.1', port: 0 }],
        logDir: path.join(dir, 'logs'),
        dataDir: path.join(dir, 'data'),
        logLevel: context.logLevel,
        places: { data: dataFile },
      })}\n`,
    );
    const server = await startServe(configFile, 'Alford');
    let startupToAnswerMs = 0;
    const histogram = latencyHistogram();
    let results = 0;
    let serverRss = 0;
    const client = await LineClient.connect(server.host, server.port);
    try {
      const seconds = Math.floor(Date.now() / 1000) - 60;
      const clients = 100;
      for (let i = 0; i < clients; i++) {
        // Deterministic scatter of about +-5 km around the centre of the dense area.
        const dLat = (((i * 7919) % 1000) / 1000 - 0.5) * 0.09;
        const dLng = (((i * 104729) % 1000) / 1000 - 0.5) * 0.09;
        const at = formatIso6709(DENSE_CENTER.latitude + dLat, DENSE_CENTER.longitude + dLng);
        await client.ask(`IAMAT places-${i} ${at} ${seconds}.${i}\n`, '\n');
        if (i === 0) {
          const first = await client.ask(`WHATSAT places-0 10 20\n`, '\n\n');
          startupToAnswerMs = performance.now() - server.spawnedAtMs;
          if (!first.includes('"status" : "OK"'))
            throw new BenchError(`places: the first WHATSAT got no places:\n${first.slice(0, 500)}`);
        }
      }
      context.progress.update(`places: ${samples} WHATSATs, one at a time`, true);
      for (let k = 0; k < samples; k++) {
        const started = performance.now();
        const reply = await client.ask(`WHATSAT places-${k % clients} 10 20\n`, '\n\n');
        recordMs(histogram, performance.now() - started);
        results += (reply.match(/"place_id"/g) ?? []).length;
      }
      serverRss = (await readRssBytes(server.pid)) ?? 0;
    } finally {
      client.close();
      await server.process.stop();
    }

    context.progress.update('places: load times and the search in this process', true);
    const builtIn = await measureLoad(DEFAULT_PLACES_DATA_FILE);
    const big = await measureLoad(dataFile);
    const search = latencyHistogram();
    const provider = new OfflinePlacesProvider({ file: dataFile });
    await provider.ready();
    try {
      for (let k = 0; k < samples * 10; k++) {
        const started = performance.now();
        provider.nearbySync(
          {
            latitude: DENSE_CENTER.latitude + (((k * 7919) % 1000) / 1000 - 0.5) * 0.09,
            longitude: DENSE_CENTER.longitude + (((k * 104729) % 1000) / 1000 - 0.5) * 0.09,
          },
          10_000,
          20,
        );
        recordMs(search, performance.now() - started);
      }
    } finally {
      await provider.close();
    }
    const searchSummary = summarize(search);
    return {
      dump_rows: rows,
      dump_bytes: dumpBytes,
      import_ms: Math.round(imported.ms),
      import_features_per_s: Math.round(rows / (imported.ms / 1000)),
      import_peak_rss_bytes: imported.peakRss,
      data_file_bytes: (await stat(dataFile)).size,
      geojson_features: geojsonFeatures,
      geojson_features_per_s: Math.round(geojsonFeatures / (geojsonImport.ms / 1000)),
      startup_to_answer_ms: Math.round(startupToAnswerMs),
      whatsat: summarize(histogram),
      whatsat_results: round(results / samples, 1),
      server_rss_bytes: serverRss,
      load_default_ms: round(builtIn.ms),
      load_default_max_block_ms: round(builtIn.maxBlockMs),
      load_imported_ms: round(big.ms),
      load_imported_max_block_ms: round(big.maxBlockMs),
      search_p50_us: Math.round(searchSummary.p50_ms * 1000),
      search_p99_us: Math.round(searchSummary.p99_ms * 1000),
    };
  } finally {
    await cleanup();
  }
}

/** A target of issue 11 and whether a run met it (the report's `TargetCheck` shape). */
export interface PlacesTarget {
  readonly name: string;
  readonly target: string;
  readonly value: number | null;
  readonly met: boolean | null;
}

/** The targets of issue 11, checked against a result (`met: null` when the scenario did not run). */
export function placesTargets(result: PlacesResult | undefined): PlacesTarget[] {
  const check = (name: string, target: string, value: number | undefined, met: (v: number) => boolean): PlacesTarget =>
    value === undefined ? { name, target, value: null, met: null } : { name, target, value, met: met(value) };
  return [
    check('places import, features/s', '>= 100k/s', result?.import_features_per_s, (v) => v >= 100_000),
    check(
      'places server RSS, MB',
      '< 150 MB',
      result === undefined ? undefined : round(result.server_rss_bytes / 1048576, 1),
      (v) => v < 150,
    ),
    check('places WHATSAT p99, ms', '< 5 ms', result?.whatsat.p99_ms, (v) => v < 5),
    check('places startup to answering, ms', '< 1 s', result?.startup_to_answer_ms, (v) => v < 1000),
    check(
      'places load, longest block, ms',
      '<= 20 ms',
      result === undefined ? undefined : Math.max(result.load_default_max_block_ms, result.load_imported_max_block_ms),
      (v) => v <= 20,
    ),
  ];
}

/**
 * The table rows of a result: `[scenario, figure, value, latency, ratio, target]`, as report.ts
 * prints them.
 */
export function placesRows(result: PlacesResult): (readonly [string, string, string, string, string, string])[] {
  const count = (n: number): string => Math.round(n).toLocaleString('en-US');
  const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
  const verdict = (name: string): string => {
    const target = placesTargets(result).find((t) => t.name === name);
    return target === undefined || target.met === null ? '' : `${target.target} ${target.met ? 'met' : 'MISSED'}`;
  };
  const places = `${count(result.dump_rows)} places`;
  return [
    [
      'places',
      `import features/s (${count(result.dump_rows)}-row dump, ${mb(result.dump_bytes)} MB; peak RSS ${mb(result.import_peak_rss_bytes)} MB)`,
      count(result.import_features_per_s),
      '',
      '',
      verdict('places import, features/s'),
    ],
    [
      'places',
      `import features/s, GeoJSON (${count(result.geojson_features)} points)`,
      count(result.geojson_features_per_s),
      '',
      '',
      '',
    ],
    [
      'places',
      `server RSS, MB (${places}, data file ${mb(result.data_file_bytes)} MB)`,
      mb(result.server_rss_bytes),
      '',
      '',
      verdict('places server RSS, MB'),
    ],
    [
      'places',
      `WHATSAT 10 km bound 20, dense area, one at a time (${result.whatsat_results} results)`,
      count(result.whatsat.count),
      `${result.whatsat.p50_ms} / ${result.whatsat.p99_ms} / ${result.whatsat.p999_ms}`,
      '',
      verdict('places WHATSAT p99, ms'),
    ],
    [
      'places',
      `search alone, in process, µs p50 / p99`,
      '',
      `${result.search_p50_us} / ${result.search_p99_us} µs`,
      '',
      '',
    ],
    [
      'places',
      `spawn to first WHATSAT answered, ms (${places})`,
      count(result.startup_to_answer_ms),
      '',
      '',
      verdict('places startup to answering, ms'),
    ],
    [
      'places',
      `load ms (longest event-loop block ms): built-in ${result.load_default_ms} (${result.load_default_max_block_ms}), imported`,
      String(result.load_imported_ms),
      `block ${result.load_imported_max_block_ms} ms`,
      '',
      verdict('places load, longest block, ms'),
    ],
  ];
}
