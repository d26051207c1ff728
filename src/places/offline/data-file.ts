/**
 * Opens a places data file (format: data-format.ts) without holding the event loop: the preamble and
 * the header (a few KB) are read with small synchronous reads as soon as the load is called, and the
 * numeric sections at once with asynchronous reads of at most {@link LOAD_CHUNK_BYTES} each into one
 * ArrayBuffer, which typed arrays then view without copying; no loop runs over the places. The big
 * read is thus under way on libuv's threads before the caller goes on (a server opens its store
 * meanwhile: src/cli/serve.ts), instead of waiting for the caller's turn to end at each step of a
 * chain of small asynchronous reads. The records stay on disk and are read a few at a time by
 * {@link readRecord}.
 */
import { PARSE_ONCE } from '../../core/parse-once.js';
import { close, closeSync, fstatSync, openSync, read as readAt, readSync } from 'node:fs';
import os from 'node:os';
import { PlacesDataError } from '../../errors.js';
import {
  NODE_FIELDS,
  PREAMBLE_BYTES,
  headerOffset,
  layoutSections,
  preambleProblem,
  placesDataHeaderSchema,
  treeLevels,
  type PlacesDataHeader,
  type Section,
} from './data-format.js';
import { decodeRecord, type DecodedRecord } from './record-codec.js';

/** Largest single read while loading, bytes: each is one short task on libuv's thread pool. */
export const LOAD_CHUNK_BYTES = 8 * 1024 * 1024;

/** The open data file of {@link PlacesData}: its descriptor, for positional reads. */
export interface PlacesFile {
  readonly fd: number;
  /** Closes the descriptor; once only. */
  close(): Promise<void>;
}

/** An open data file: its header, typed views of its numeric sections, and the open file. */
export interface PlacesData {
  readonly file: string;
  readonly header: PlacesDataHeader;
  /** Places in the file. */
  readonly count: number;
  /** `[lng, lat]` of each place, degrees, in file order. */
  readonly coordinates: Float64Array;
  readonly prominence: Float64Array;
  /** Record `i` is bytes `[recordOffsets[i], recordOffsets[i + 1])` of the records section. */
  readonly recordOffsets: Uint32Array;
  /** {@link NODE_FIELDS} numbers per node, level 0 first. */
  readonly nodes: Float64Array;
  /** Index (in nodes) of the first node of each level. */
  readonly levelStarts: readonly number[];
  /** File position of the records section. */
  readonly recordsPosition: number;
  readonly handle: PlacesFile;
}

function openFile(fd: number): PlacesFile {
  return {
    fd,
    close: () => new Promise<void>((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve()))),
  };
}

/** `target.length` bytes from `position`, synchronously (the preamble and the header: a few KB). */
function readExactlySync(fd: number, target: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < target.length) {
    const bytesRead = readSync(fd, target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new PlacesDataError(file, 'truncated (the file ends inside a section)');
    done += bytesRead;
  }
}

/** `target.length` bytes from `position`, in asynchronous reads of at most {@link LOAD_CHUNK_BYTES}. */
async function readExactly(fd: number, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const length = Math.min(LOAD_CHUNK_BYTES, target.length - done);
    const bytesRead = await new Promise<number>((resolve, reject) =>
      readAt(fd, target, done, length, position + done, (error, bytes) => (error ? reject(error) : resolve(bytes))),
    );
    if (bytesRead === 0) throw new PlacesDataError(file, 'truncated (the file ends inside a section)');
    done += bytesRead;
  }
}

function readHeader(fd: number, file: string, size: number): PlacesDataHeader {
  const preamble = Buffer.alloc(Math.min(size, PREAMBLE_BYTES));
  readExactlySync(fd, preamble, 0, file);
  const problem = preambleProblem(preamble, size);
  if (problem !== undefined) throw new PlacesDataError(file, problem);
  const headerBytes = preamble.readUInt32LE(12);
  const at = preamble.readDoubleLE(16);
  const text = Buffer.alloc(headerBytes);
  readExactlySync(fd, text, at, file);
  let json: unknown;
  try {
    json = JSON.parse(text.toString('utf8'));
  } catch (error) {
    throw new PlacesDataError(file, 'corrupt header (not JSON)', { cause: error });
  }
  const parsed = placesDataHeaderSchema.safeParse(json, PARSE_ONCE);
  if (!parsed.success)
    throw new PlacesDataError(file, `corrupt header (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  const header = parsed.data;
  const expected = layoutSections(header.count, header.sections.records[1]);
  if (
    JSON.stringify(expected) !== JSON.stringify(header.sections) ||
    JSON.stringify(treeLevels(header.count)) !== JSON.stringify(header.levels) ||
    headerOffset(expected) !== at
  )
    throw new PlacesDataError(file, 'corrupt header (sections do not match the place count)');
  return header;
}

/**
 * Opens and reads a data file. The header is read and checked before this returns its promise, and
 * the read of the numeric sections is then under way.
 *
 * @returns the data, with the file left open for {@link readRecord}; close `handle` when done.
 * @throws {PlacesDataError} (as a rejection) when the file cannot be read, is not a data file, is of
 *   another format version, or is truncated or corrupt.
 */
export async function loadPlacesData(file: string): Promise<PlacesData> {
  if (os.endianness() !== 'LE') throw new PlacesDataError(file, 'data files are little-endian; this machine is not');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new PlacesDataError(file, `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
  const handle = openFile(fd);
  try {
    const { size } = fstatSync(fd);
    const header = readHeader(fd, file, size);
    const { coordinates, prominence, recordOffsets, nodes, records } = header.sections;
    // The numeric sections are contiguous from the preamble to the records: one buffer, one view each.
    const buffer = new ArrayBuffer(records[0] - PREAMBLE_BYTES);
    await readExactly(fd, new Uint8Array(buffer), PREAMBLE_BYTES, file);
    const f64 = ([offset, bytes]: Section): Float64Array =>
      new Float64Array(buffer, offset - PREAMBLE_BYTES, bytes / 8);
    const u32 = ([offset, bytes]: Section): Uint32Array => new Uint32Array(buffer, offset - PREAMBLE_BYTES, bytes / 4);
    const count = header.count;
    const data: PlacesData = {
      file,
      header,
      count,
      coordinates: f64(coordinates),
      prominence: f64(prominence),
      recordOffsets: u32(recordOffsets),
      nodes: f64(nodes),
      levelStarts: header.levels.reduce<number[]>((starts, _, i) => {
        starts.push(i === 0 ? 0 : (starts[i - 1] as number) + (header.levels[i - 1] as number));
        return starts;
      }, []),
      recordsPosition: records[0],
      handle,
    };
    if (
      data.recordOffsets[count] !== records[1] ||
      data.nodes.length !== header.levels.reduce((a, b) => a + b, 0) * NODE_FIELDS
    )
      throw new PlacesDataError(file, 'corrupt (record offsets do not match the records section)');
    return data;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Reads and decodes the record of place `i` with one positional read (microseconds when the page is
 * cached; a WHATSAT reads at most its bound).
 *
 * @param scratch - a buffer to read into; a larger one is made when the record does not fit.
 */
export function readRecord(data: PlacesData, i: number, scratch: Buffer): DecodedRecord {
  const start = data.recordOffsets[i] as number;
  const bytes = (data.recordOffsets[i + 1] as number) - start;
  const target = bytes <= scratch.length ? scratch : Buffer.alloc(bytes);
  let done = 0;
  while (done < bytes) {
    const read = readSync(data.handle.fd, target, done, bytes - done, data.recordsPosition + start + done);
    if (read === 0) throw new PlacesDataError(data.file, 'truncated (a record lies past the end of the file)');
    done += read;
  }
  return decodeRecord(target, 0, data.header.types);
}
