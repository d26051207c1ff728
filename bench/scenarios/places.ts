/**
 * Scenario places: the offline places source at scale. It generates a synthetic GeoNames
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
 * Self-contained: the product is reached through src/places only. Its data: ./places-data.ts.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { OfflinePlacesProvider } from '../../src/places/offline/offline-provider.js';
import { DEFAULT_PLACES_DATA_FILE } from '../../src/places/settings.js';
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import { CLI, benchDir, benchEnv, readRssBytes, startServe } from '../bench-processes.js';
import { formatIso6709 } from '../../src/protocol/location.js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from '../latency.js';
import { LineClient } from '../line-client.js';
import {
  DENSE_CENTER,
  PLACES_DUMP_ROWS,
  PLACES_DUMP_ROWS_QUICK,
  writeSyntheticGeoJson,
  writeSyntheticGeoNamesDump,
} from './places-data.js';

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

/** A target of the offline source at scale and whether a run met it (the report's `TargetCheck` shape). */
export interface PlacesTarget {
  readonly name: string;
  readonly target: string;
  readonly value: number | null;
  readonly met: boolean | null;
}

/** The targets of the offline source at scale, checked against a result (`met: null` when the scenario did not run). */
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
