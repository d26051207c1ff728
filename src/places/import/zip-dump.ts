/**
 * GeoNames zips as geonames.org/export/dump ships them (`US.zip` holding `US.txt` and `readme.txt`;
 * `allCountries.zip` holding `allCountries.txt`), read with yauzl: the central directory first, then
 * each dump entry as a stream inflated on the fly, so a 400 MB zip never sits in memory. Every `.txt`
 * entry except `readme.txt` is a dump.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ImportError } from '../../errors.js';

/** One dump inside a zip. */
export interface ZipDumpEntry {
  /** The entry's path inside the zip. */
  readonly name: string;
  readonly uncompressedSize: number;
  /** Opens the entry as a stream of inflated bytes. */
  open(): Promise<Readable>;
}

/** An open zip and its dump entries; {@link close} when done. */
export interface ZipDump {
  readonly entries: readonly ZipDumpEntry[];
  close(): void;
}

/** Whether a zip entry is a GeoNames dump (a `.txt` file other than the readme). */
export function isDumpEntry(name: string): boolean {
  const base = path.posix.basename(name).toLowerCase();
  return !name.endsWith('/') && base.endsWith('.txt') && base !== 'readme.txt';
}

/**
 * Opens a zip and lists its dump entries.
 *
 * @param label - the zip as named in messages.
 * @throws {ImportError} when the file is not a readable zip or holds no dump.
 */
export async function openZipDump(file: string, label: string): Promise<ZipDump> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  } catch (error) {
    throw new ImportError({ file: label }, `not a readable zip: ${(error as Error).message}`, { cause: error });
  }
  try {
    const entries: ZipDumpEntry[] = [];
    for await (const entry of zip.eachEntry()) {
      if (!isDumpEntry(entry.fileName)) continue;
      entries.push({
        name: entry.fileName,
        uncompressedSize: entry.uncompressedSize,
        open: () => zip.openReadStreamPromise(entry),
      });
    }
    if (entries.length === 0) throw new ImportError({ file: label }, 'holds no .txt dump (only a readme?)');
    return {
      entries,
      close: () => {
        if (zip.isOpen) zip.close();
      },
    };
  } catch (error) {
    zip.close();
    if (error instanceof ImportError) throw error;
    throw new ImportError({ file: label }, `corrupt zip: ${(error as Error).message}`, { cause: error });
  }
}
