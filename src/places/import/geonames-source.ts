/**
 * GeoNames dumps (`allCountries.txt`, `US.txt`, `cities1000.txt`, ... inside or outside their zip):
 * UTF-8, one feature a line, the 19 tab-separated columns of geonames.org/export/dump's readme,
 * section "The main 'geoname' table has the following fields". Each row becomes a place with
 * `place_id` `geonames:<geonameid>`, types from its feature class and code (geonames-types.ts),
 * prominence from its population or alternate names, and a vicinity from its admin names.
 */
import { ImportError } from '../../errors.js';
import { MAX_TEXT_BYTES } from '../offline/data-format.js';
import type { AdminNames } from './admin-codes.js';
import type { FeatureSink } from './feature-sink.js';
import { geoNamesProminence, typesForFeatureCode } from './geonames-types.js';
import type { ImportedPlace } from './place-sorter.js';
import { forEachLine } from './text-lines.js';

/** The 19 columns of a GeoNames row, in order (readme, "geoname" table). */
export const GEONAMES_COLUMNS = [
  'geonameid',
  'name',
  'asciiname',
  'alternatenames',
  'latitude',
  'longitude',
  'feature class',
  'feature code',
  'country code',
  'cc2',
  'admin1 code',
  'admin2 code',
  'admin3 code',
  'admin4 code',
  'population',
  'elevation',
  'dem',
  'timezone',
  'modification date',
] as const;

/** Feature classes of geonames.org/export/codes.html; an empty class also occurs in the dumps. */
const FEATURE_CLASS = /^[AHLPRSTUV]?$/;
const FEATURE_CODE = /^[A-Z0-9]{0,10}$/;
const COUNTRY_CODE = /^(?:[A-Z]{2})?$/;
const DECIMAL = /^-?\d{1,3}(?:\.\d+)?$/;
const INTEGER = /^\d+$/;

/** A column that failed validation, with why. */
export interface RowProblem {
  readonly field: string;
  readonly message: string;
}

const quoted = (text: string): string => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);

function textField(value: string, field: string): RowProblem | undefined {
  if (value === '') return { field, message: 'empty' };
  if (Buffer.byteLength(value, 'utf8') > MAX_TEXT_BYTES)
    return { field, message: `longer than ${MAX_TEXT_BYTES} bytes` };
  return undefined;
}

/**
 * `vicinity` of a GeoNames feature: its own name for populated places and admin divisions, then its
 * admin2 and admin1 names when the admin code files were given (a repeated name once), then its
 * country code; `undefined` when none of these is known.
 */
export function geoNamesVicinity(
  name: string,
  featureClass: string,
  country: string,
  admin1: string,
  admin2: string,
  admin: AdminNames,
): string | undefined {
  const parts: string[] = [];
  const add = (part: string | undefined): void => {
    if (part !== undefined && part !== '' && parts[parts.length - 1] !== part) parts.push(part);
  };
  if (featureClass === 'P' || featureClass === 'A') add(name);
  if (country !== '' && admin1 !== '') {
    add(admin2 === '' ? undefined : admin.admin2.get(`${country}.${admin1}.${admin2}`));
    add(admin.admin1.get(`${country}.${admin1}`));
  }
  add(country);
  const vicinity = parts.join(', ');
  return vicinity === '' || Buffer.byteLength(vicinity, 'utf8') > MAX_TEXT_BYTES ? undefined : vicinity;
}

/**
 * Validates one row (already split on tabs) and makes it a place.
 *
 * @returns the place, or the first column at fault.
 */
export function parseGeoNamesRow(fields: readonly string[], admin: AdminNames): ImportedPlace | RowProblem {
  if (fields.length !== GEONAMES_COLUMNS.length)
    return {
      field: 'columns',
      message: `expected ${GEONAMES_COLUMNS.length} tab-separated columns, found ${fields.length}`,
    };
  const [id, name, , alternateNames, latText, lngText, featureClass, featureCode, country, , admin1, admin2] =
    fields as [string, string, string, string, string, string, string, string, string, string, string, string];
  const populationText = fields[14] as string;
  if (!INTEGER.test(id)) return { field: 'geonameid', message: `${quoted(id)} is not a positive integer` };
  const nameProblem = textField(name, 'name');
  if (nameProblem !== undefined) return nameProblem;
  const lat = Number(latText);
  if (!DECIMAL.test(latText) || !(lat >= -90 && lat <= 90))
    return { field: 'latitude', message: `${quoted(latText)} is not a number in [-90, 90]` };
  const lng = Number(lngText);
  if (!DECIMAL.test(lngText) || !(lng >= -180 && lng <= 180))
    return { field: 'longitude', message: `${quoted(lngText)} is not a number in [-180, 180]` };
  if (!FEATURE_CLASS.test(featureClass))
    return { field: 'feature class', message: `${quoted(featureClass)} is not one of A, H, L, P, R, S, T, U, V` };
  if (!FEATURE_CODE.test(featureCode))
    return { field: 'feature code', message: `${quoted(featureCode)} is not a GeoNames feature code` };
  if (!COUNTRY_CODE.test(country))
    return { field: 'country code', message: `${quoted(country)} is not an ISO 3166 alpha-2 code` };
  if (populationText !== '' && !INTEGER.test(populationText))
    return { field: 'population', message: `${quoted(populationText)} is not a non-negative integer` };
  const population = populationText === '' ? 0 : Number(populationText);
  return {
    lng,
    lat,
    prominence: geoNamesProminence(population, alternateNames),
    name,
    placeId: `geonames:${id}`,
    vicinity: geoNamesVicinity(name, featureClass, country, admin1, admin2, admin),
    types: typesForFeatureCode(featureCode, featureClass),
  };
}

/**
 * Reads a GeoNames dump stream into the sink: every non-blank line is a feature.
 *
 * @param label - the input as named in messages, e.g. `US.zip:US.txt`.
 * @throws {ImportError} for the first malformed row, unless the sink counts them.
 */
export async function readGeoNamesDump(
  stream: AsyncIterable<Buffer>,
  label: string,
  admin: AdminNames,
  sink: FeatureSink,
): Promise<void> {
  await forEachLine(
    stream,
    (line, lineNumber) => {
      if (line === '') {
        sink.skip('blank line');
        return;
      }
      const parsed = parseGeoNamesRow(line.split('\t'), admin);
      if ('field' in parsed)
        sink.invalid(new ImportError({ file: label, line: lineNumber, field: parsed.field }, parsed.message));
      else sink.keep(parsed);
    },
    (bytes) => sink.consumed(bytes),
  );
}
