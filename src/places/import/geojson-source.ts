/**
 * GeoJSON input (RFC 7946): a FeatureCollection of Point features, read as a stream with
 * @streamparser/json so a file of any size takes memory for one feature at a time. Each Point feature
 * becomes a place:
 *
 * | property                 | required | default                                                       |
 * | ------------------------ | -------- | ------------------------------------------------------------- |
 * | `properties.name`        | yes      |                                                               |
 * | `properties.types`       | no       | from OpenStreetMap tags (osm-types.ts), else `["point_of_interest", "establishment"]` |
 * | `properties.prominence`  | no       | 0                                                             |
 * | `properties.place_id`    | no       | `<file stem>:<feature id>`, or `<file stem>:<feature index>`  |
 * | `properties.vicinity`    | no       | `<addr:housenumber> <addr:street>, <addr:city>` when present; else the importer names the nearest populated place (nearest-locality.ts) |
 *
 * Features of another geometry (or none) are skipped and counted, as OpenStreetMap exports mix them.
 */
import path from 'node:path';
import { TokenParser, TokenParserError, Tokenizer, TokenizerError } from '@streamparser/json';
import { isRecord } from '../../core/json.js';
import { ImportError } from '../../errors.js';
import { MAX_TEXT_BYTES } from '../offline/data-format.js';
import type { FeatureSink } from './feature-sink.js';
import { ESTABLISHMENT } from './geonames-types.js';
import { typesFromOsmTags } from './osm-types.js';
import { MAX_TYPES_PER_PLACE, type ImportedPlace } from './place-sorter.js';

/** `types` of a GeoJSON place without `properties.types` nor a known OpenStreetMap tag. */
export const GEOJSON_DEFAULT_TYPES: readonly string[] = Object.freeze([...ESTABLISHMENT]);
/** `prominence` of a GeoJSON place without `properties.prominence`. */
export const GEOJSON_DEFAULT_PROMINENCE = 0;
/** Skip reason of a feature whose geometry is not a Point. */
export const NOT_A_POINT = 'geometry is not a Point';

type Json = unknown;

const tooLong = (text: string): boolean => Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES;

/** A property that failed validation, with why. */
interface FeatureProblem {
  readonly field: string;
  readonly message: string;
}

/** The default vicinity from OpenStreetMap address tags, as osmium and ogr2ogr export them. */
function addressOf(properties: Record<string, Json>): string | undefined {
  const text = (key: string): string => {
    const value = properties[key];
    return typeof value === 'string' ? value.trim() : '';
  };
  const street = [text('addr:housenumber'), text('addr:street')].filter((part) => part !== '').join(' ');
  const parts = [text('addr:street') === '' ? '' : street, text('addr:city')].filter((part) => part !== '');
  const vicinity = parts.join(', ');
  return vicinity === '' || tooLong(vicinity) ? undefined : vicinity;
}

/**
 * Validates one feature and makes it a place.
 *
 * @param stem - the file name without its extension, for default place ids.
 * @param index - the feature's index in `features`.
 * @returns the place; `undefined` for a feature to skip as {@link NOT_A_POINT}; or the field at fault.
 */
export function parseGeoJsonFeature(
  feature: Json,
  stem: string,
  index: number,
): ImportedPlace | FeatureProblem | undefined {
  if (!isRecord(feature) || feature.type !== 'Feature') return { field: 'type', message: 'not a GeoJSON Feature' };
  const geometry = feature.geometry;
  if (!isRecord(geometry) || geometry.type !== 'Point') return undefined;
  const coordinates = geometry.coordinates;
  const [lng, lat] = Array.isArray(coordinates) ? (coordinates as Json[]) : [];
  if (typeof lng !== 'number' || !(lng >= -180 && lng <= 180) || typeof lat !== 'number' || !(lat >= -90 && lat <= 90))
    return { field: 'geometry.coordinates', message: 'not [longitude, latitude] in [-180, 180] x [-90, 90]' };
  const properties = isRecord(feature.properties) ? feature.properties : {};
  const name = properties.name;
  if (typeof name !== 'string' || name.trim() === '' || tooLong(name))
    return { field: 'properties.name', message: `required: a non-empty string of at most ${MAX_TEXT_BYTES} bytes` };
  let types: readonly string[];
  if (properties.types === undefined) types = typesFromOsmTags(properties) ?? GEOJSON_DEFAULT_TYPES;
  else {
    const given = properties.types;
    if (
      !Array.isArray(given) ||
      given.length === 0 ||
      given.length > MAX_TYPES_PER_PLACE ||
      !given.every((type) => typeof type === 'string' && type !== '' && !tooLong(type))
    )
      return { field: 'properties.types', message: `not an array of 1 to ${MAX_TYPES_PER_PLACE} non-empty strings` };
    types = given as string[];
  }
  let prominence = GEOJSON_DEFAULT_PROMINENCE;
  if (properties.prominence !== undefined) {
    if (typeof properties.prominence !== 'number' || !Number.isFinite(properties.prominence))
      return { field: 'properties.prominence', message: 'not a finite number' };
    prominence = properties.prominence;
  }
  let placeId: string;
  if (properties.place_id !== undefined) {
    const given = properties.place_id;
    if ((typeof given !== 'string' && typeof given !== 'number') || String(given) === '' || tooLong(String(given)))
      return { field: 'properties.place_id', message: 'not a non-empty string or a number' };
    placeId = String(given);
  } else {
    const id = feature.id;
    placeId = `${stem}:${typeof id === 'string' || typeof id === 'number' ? String(id) : String(index)}`;
    if (tooLong(placeId)) return { field: 'id', message: `longer than ${MAX_TEXT_BYTES} bytes` };
  }
  let vicinity: string | undefined;
  if (properties.vicinity !== undefined) {
    if (typeof properties.vicinity !== 'string' || tooLong(properties.vicinity))
      return { field: 'properties.vicinity', message: `not a string of at most ${MAX_TEXT_BYTES} bytes` };
    vicinity = properties.vicinity;
  } else {
    vicinity = addressOf(properties);
  }
  return { lng, lat, prominence, name, placeId, vicinity, types };
}

/**
 * Reads a GeoJSON FeatureCollection stream into the sink.
 *
 * @param file - the file (its stem makes default place ids); `label` names it in messages.
 * @throws {ImportError} for malformed JSON, a top-level value that is not a FeatureCollection, or
 *   (unless the sink counts them) the first malformed feature.
 */
export async function readGeoJson(
  stream: AsyncIterable<Buffer>,
  file: string,
  label: string,
  sink: FeatureSink,
): Promise<void> {
  const stem = path.basename(file).replace(/\.[^.]*$/, '');
  // The tokenizer and the token parser wired as @streamparser/json's JSONParser wires them, so that
  // each token's byte offset is known for messages.
  const tokenizer = new Tokenizer();
  const tokenParser = new TokenParser({ paths: ['$.type', '$.features.*'], keepStack: false });
  let tokenOffset = 0;
  tokenizer.onToken = (token) => {
    tokenOffset = token.offset;
    tokenParser.write(token);
  };
  tokenizer.onEnd = () => {
    if (!tokenParser.isEnded) tokenParser.end();
  };
  tokenParser.onError = (error) => tokenizer.error(error);
  tokenParser.onEnd = () => {
    if (!tokenizer.isEnded) tokenizer.end();
  };
  let topType: Json;
  let lastIndex = -1;
  let failure: Error | undefined;
  // What a feature's handling threw inside the parser's callback, rethrown out here.
  const throwFailure = (): void => {
    if (failure !== undefined) throw failure;
  };
  let bytes = 0;
  tokenParser.onValue = ({ value, key }) => {
    if (failure !== undefined) return;
    try {
      if (typeof key !== 'number') {
        topType = value;
        return;
      }
      lastIndex = key;
      const parsed = parseGeoJsonFeature(value, stem, key);
      if (parsed === undefined) sink.skip(NOT_A_POINT);
      else if ('field' in parsed)
        sink.invalid(new ImportError({ file: label, feature: key, field: parsed.field }, parsed.message));
      else sink.keep(parsed);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
  };
  // The tokenizer names the absolute byte of a bad character; the parser only its token.
  const malformed = (error: unknown): ImportError => {
    const text = error instanceof Error ? error.message : String(error);
    const at = /absolute position "(\d+)"/.exec(text)?.[1] ?? String(tokenOffset);
    // `Unexpected "x" at chunk position ...` (tokenizer), `Unexpected RIGHT_BRACE ("}") in state VALUE` (parser).
    const what =
      /^Unexpected ("[^"]*") at chunk/.exec(text)?.[1] ?? /^Unexpected \w+ \((.*)\) in state/.exec(text)?.[1];
    return new ImportError(
      { file: label, feature: lastIndex + 1 },
      `not valid JSON at offset ${at}: ${what === undefined ? text : `unexpected ${what}`}`,
      { cause: error },
    );
  };
  try {
    for await (const chunk of stream) {
      sink.consumed(chunk.length);
      bytes += chunk.length;
      tokenizer.write(chunk);
      throwFailure();
    }
  } catch (error) {
    throw error instanceof TokenizerError || error instanceof TokenParserError ? malformed(error) : error;
  }
  throwFailure();
  try {
    if (!tokenizer.isEnded) tokenizer.end();
  } catch (error) {
    // Ended inside a token or an unclosed array/object: the file is cut short.
    throw new ImportError(
      { file: label, feature: lastIndex + 1 },
      `the file ends after ${bytes} bytes, inside the JSON (truncated? export or download it again)`,
      { cause: error },
    );
  }
  throwFailure();
  if (topType !== 'FeatureCollection')
    throw new ImportError(
      { file: label, field: 'type' },
      `expected a GeoJSON FeatureCollection, found ${topType === undefined ? 'no "type"' : JSON.stringify(topType)}`,
    );
}
