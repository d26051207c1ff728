/**
 * The inputs of `herd places import` before any is read: what kind each is (by its name), that each
 * is a readable file (a zip opened to size its entries), and that the folders it writes in are
 * writable; admin code files first, since dump rows need their names.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { adminCodesLevel } from './admin-codes.js';
import { openZipDump, type ZipDump } from './zip-dump.js';

/** What an input is, from its name: GeoNames admin codes, a GeoNames dump (plain or zipped), GeoJSON. */
export type InputKind = 'admin1' | 'admin2' | 'geonames' | 'geonames-zip' | 'geojson';

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

/** One input, checked and sized (uncompressed bytes, for the progress bar). */
export interface InputPlan {
  readonly file: string;
  readonly kind: InputKind;
  readonly bytes: number;
  readonly zip?: ZipDump;
}

export async function planInputs(inputs: readonly string[]): Promise<InputPlan[]> {
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
export async function assertWritableFolder(folder: string, flag: string, given: string): Promise<void> {
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
