/**
 * GeoNames admin code files, which turn the admin1/admin2 codes of a dump's rows into names for
 * `vicinity`: `admin1CodesASCII.txt` (`US.CA<TAB>California<TAB>California<TAB>5332921`) and
 * `admin2Codes.txt` (`US.CA.037<TAB>Los Angeles County<TAB>...`), both from geonames.org/export/dump
 * (readme: "admin1CodesASCII.txt", "admin2Codes.txt"). Without them, `vicinity` falls back to the
 * country code (docs/places.md "Vicinity").
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { ImportError } from '../../errors.js';
import type { FeatureSink } from './feature-sink.js';
import { forEachLine } from './text-lines.js';

/** Names of admin divisions by their dotted code: `US.CA` (admin1), `US.CA.037` (admin2). */
export interface AdminNames {
  readonly admin1: Map<string, string>;
  readonly admin2: Map<string, string>;
}

/** The admin level of an admin code file by its GeoNames name, or `undefined` for another file. */
export function adminCodesLevel(file: string): 1 | 2 | undefined {
  const name = path.basename(file).toLowerCase();
  if (name === 'admin1codesascii.txt' || name === 'admin1codes.txt') return 1;
  if (name === 'admin2codes.txt') return 2;
  return undefined;
}

const CODE = { 1: /^[A-Z]{2}\.[^.\s]+$/, 2: /^[A-Z]{2}\.[^.\s]+\.[^.\s]+$/ } as const;

/**
 * Reads one admin code file into `names`.
 *
 * @param label - the file as named in messages.
 * @throws {ImportError} for a malformed line (unless the sink counts it).
 */
export async function readAdminCodes(
  file: string,
  label: string,
  level: 1 | 2,
  names: AdminNames,
  sink: Pick<FeatureSink, 'invalid' | 'consumed'>,
): Promise<void> {
  const into = level === 1 ? names.admin1 : names.admin2;
  await forEachLine(
    createReadStream(file, { highWaterMark: 1 << 20 }),
    (line, lineNumber) => {
      if (line === '') return;
      const fields = line.split('\t');
      const [code = '', name = ''] = fields;
      if (!CODE[level].test(code)) {
        sink.invalid(
          new ImportError(
            { file: label, line: lineNumber, field: 'code' },
            `"${code.slice(0, 40)}" is not an admin${level} code like ${level === 1 ? 'US.CA' : 'US.CA.037'}`,
          ),
        );
        return;
      }
      if (name === '') {
        sink.invalid(new ImportError({ file: label, line: lineNumber, field: 'name' }, 'empty'));
        return;
      }
      into.set(code, name);
    },
    (bytes) => sink.consumed(bytes),
  );
}
