/**
 * `herd places import`: builds one offline places data file from any mix of GeoNames dumps (`.txt`,
 * `.zip`), GeoNames admin code files and GeoJSON FeatureCollections. Two passes, bounded memory: the
 * inputs are streamed into a {@link PlaceSorter} (sorted runs on disk), then the runs are merged into
 * the data file, written under a temporary name and renamed to `--out` only when complete.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { access, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ImportError, UsageError } from '../../errors.js';
import { GEONAMES_ATTRIBUTION, OSM_ATTRIBUTION } from '../attributions.js';
import type { PlacesDataHeader } from '../offline/data-format.js';
import { adminCodesLevel, readAdminCodes, type AdminNames } from './admin-codes.js';
import type { FeatureSink } from './feature-sink.js';
import { readGeoJson } from './geojson-source.js';
import { readGeoNamesDump } from './geonames-source.js';
import { PlaceSorter, type ImportedPlace, type PlaceSorterOptions } from './place-sorter.js';
import { openZipDump, type ZipDump } from './zip-dump.js';

/** What an input is, from its name: GeoNames admin codes, a GeoNames dump (plain or zipped), GeoJSON. */
export type InputKind = 'admin1' | 'admin2' | 'geonames' | 'geonames-zip' | 'geojson';

/** Read buffer of a plain input file, bytes. */
const READ_BUFFER_BYTES = 1 << 20;

/**
 * The kind of an input by its file name: `admin1CodesASCII.txt` and `admin2Codes.txt` are admin
 * codes, other `.txt` files GeoNames dumps, `.zip` zipped dumps, `.geojson` and `.json` GeoJSON.
 *
 * @throws {UsageError} for any other extension.
 */
export function inputKind(file: string): InputKind {
  const level = adminCodesLevel(file);
  if (level !== undefined) return level === 1 ? 'admin1' : 'admin2';
  const extension = path.extname(file).toLowerCase();
  if (extension === '.txt') return 'geonames';
  if (extension === '.zip') return 'geonames-zip';
  if (extension === '.geojson' || extension === '.json') return 'geojson';
  throw new UsageError(
    `${file}: unknown input (GeoNames .txt or .zip, admin1CodesASCII.txt, admin2Codes.txt, or GeoJSON .geojson / .json)`,
  );
}

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
  /** The first message of each kind of invalid feature, for the report. */
  readonly examples: Readonly<Record<string, string>>;
  readonly header: PlacesDataHeader;
  /** Size of the data file, bytes. */
  readonly bytes: number;
  /** Wall time of reading, and of the whole import, ms. */
  readonly readMs: number;
  readonly totalMs: number;
}

interface InputPlan {
  readonly file: string;
  readonly kind: InputKind;
  readonly bytes: number;
  readonly zip?: ZipDump;
}

async function planInputs(inputs: readonly string[]): Promise<InputPlan[]> {
  const plans: InputPlan[] = [];
  try {
    for (const file of inputs) {
      const kind = inputKind(file);
      let size: number;
      try {
        const info = await stat(file);
        if (!info.isFile()) throw new UsageError(`${file}: not a file`);
        size = info.size;
      } catch (error) {
        if (error instanceof UsageError) throw error;
        throw new UsageError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
          cause: error,
        });
      }
      if (kind === 'geonames-zip') {
        const zip = await openZipDump(file, file);
        plans.push({ file, kind, zip, bytes: zip.entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0) });
      } else {
        plans.push({ file, kind, bytes: size });
      }
    }
  } catch (error) {
    for (const plan of plans) plan.zip?.close();
    throw error;
  }
  // Admin names are needed before any dump row is read.
  const rank = (kind: InputKind): number => (kind === 'admin1' || kind === 'admin2' ? 0 : 1);
  return [...plans].sort((a, b) => rank(a.kind) - rank(b.kind));
}

/**
 * Checks that a folder the import writes in exists and is writable, before any input is read.
 *
 * @param flag - the option that named it, for the message (`--out`, `--tmp-dir`).
 * @throws {UsageError} naming the option and the folder, with the fix.
 */
async function assertWritableFolder(folder: string, flag: string, given: string): Promise<void> {
  let info;
  try {
    info = await stat(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(
      code === 'ENOENT'
        ? `${flag} ${given}: the folder ${folder} does not exist; create it (mkdir -p ${folder}) or give another ${flag}`
        : `${flag} ${given}: cannot use the folder ${folder} (${code})`,
      { cause: error },
    );
  }
  if (!info.isDirectory()) throw new UsageError(`${flag} ${given}: ${folder} is not a folder`);
  try {
    await access(folder, constants.W_OK);
  } catch (error) {
    throw new UsageError(`${flag} ${given}: cannot write in ${folder} (EACCES); give a folder you can write in`, {
      cause: error,
    });
  }
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
  const progress = options.progress;
  const keptByKind = { geonames: 0, geojson: 0 };
  let consumedBytes = 0;
  let features = 0;
  const checkAbort = (): void => {
    if (options.signal?.aborted === true) throw new UsageError('import interrupted');
  };
  try {
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
          try {
            sorter.add(place);
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
      examples,
      header,
      bytes,
      readMs,
      totalMs: performance.now() - started,
    };
  } finally {
    progress?.stop();
    for (const plan of plans) plan.zip?.close();
    await rm(runDir, { recursive: true, force: true });
    await rm(tempFile, { force: true });
  }
}
