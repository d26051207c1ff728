/**
 * Puts imported places in Hilbert order with bounded memory, whatever the input size: places are
 * gathered in a chunk of at most {@link CHUNK_PLACES} places and {@link CHUNK_RECORD_BYTES} record
 * bytes; a full chunk is sorted and written to a run file; at the end the runs are merged (k-way,
 * {@link RUN_READ_BUFFER_BYTES} of buffer each) straight into a {@link DataFileWriter}. Input that fits
 * one chunk never touches a run file. Equal Hilbert indices keep input order, so a file is
 * reproducible from the same inputs.
 */
import { closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MAX_TEXT_BYTES, MAX_TYPES, type PlacesDataHeader } from '../offline/data-format.js';
import { hilbertIndex } from '../offline/hilbert.js';
import { encodeRecord, maxRecordBytes } from '../offline/record-codec.js';
import { DataFileWriter, type DataFileMeta } from './data-file-writer.js';
import { PositionedWriter } from './positioned-io.js';

/** Most places in one in-memory chunk (a power of two: chunk positions share the sort key). */
export const CHUNK_PLACES = 1 << 19;
/** Most record bytes in one in-memory chunk. */
export const CHUNK_RECORD_BYTES = 32 << 20;
/** Read buffer of each run file during the merge, bytes. */
export const RUN_READ_BUFFER_BYTES = 1 << 20;
/** Write buffer of a run file, bytes. */
const RUN_WRITE_BUFFER_BYTES = 4 * RUN_READ_BUFFER_BYTES;
/** Places merged between two yields to the event loop (progress, signals). */
const MERGE_YIELD_EVERY = 1 << 16;
/** Bytes before the record in a run entry: u32 hilbert, u32 record bytes, f64 lng, lat, prominence. */
const RUN_ENTRY_HEADER = 32;
/** Most types a place can have (the record stores the count in one byte). */
export const MAX_TYPES_PER_PLACE = 255;

/** One place as the importers produce it. Strings at most `MAX_TEXT_BYTES` long in UTF-8. */
export interface ImportedPlace {
  /** Degrees east, in [-180, 180]. */
  readonly lng: number;
  /** Degrees north, in [-90, 90]. */
  readonly lat: number;
  /** Ranks radius searches, higher first; any finite number. */
  readonly prominence: number;
  readonly name: string;
  readonly placeId: string;
  readonly vicinity: string | undefined;
  /** Google place types, at most {@link MAX_TYPES_PER_PLACE}. */
  readonly types: readonly string[];
}

/** Sizes of {@link PlaceSorter} chunks; smaller ones in tests exercise the merge. */
export interface PlaceSorterOptions {
  /** @default {@link CHUNK_PLACES}; at most that. */
  readonly chunkPlaces?: number;
  /** @default {@link CHUNK_RECORD_BYTES} */
  readonly chunkRecordBytes?: number;
}

/** A run file being merged: its buffered reader and the entry at its head. */
class RunReader {
  private readonly buffer = Buffer.allocUnsafe(RUN_READ_BUFFER_BYTES);
  private start = 0;
  private end = 0;
  private filePosition = 0;
  hilbert = 0;
  lng = 0;
  lat = 0;
  prominence = 0;
  recordStart = 0;
  recordLength = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
    readonly index: number,
  ) {}

  /** Makes `bytes` bytes available from `start`; false at the end of the file. */
  private fill(bytes: number): boolean {
    if (this.end - this.start >= bytes) return true;
    this.buffer.copy(this.buffer, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    while (this.end < bytes && this.filePosition < this.size) {
      const read = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, this.filePosition);
      if (read === 0) break;
      this.end += read;
      this.filePosition += read;
    }
    return this.end - this.start >= bytes;
  }

  /** Moves to the next entry; false when the run is done. */
  next(): boolean {
    this.start += this.recordStart === 0 ? 0 : RUN_ENTRY_HEADER + this.recordLength;
    this.recordStart = 0;
    if (!this.fill(RUN_ENTRY_HEADER)) return false;
    const b = this.buffer;
    const at = this.start;
    this.hilbert = b.readUInt32LE(at);
    this.recordLength = b.readUInt32LE(at + 4);
    this.lng = b.readDoubleLE(at + 8);
    this.lat = b.readDoubleLE(at + 16);
    this.prominence = b.readDoubleLE(at + 24);
    if (!this.fill(RUN_ENTRY_HEADER + this.recordLength)) throw new Error('run file truncated');
    this.recordStart = this.start + RUN_ENTRY_HEADER;
    return true;
  }

  get record(): Buffer {
    return this.buffer;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Sorts places into Hilbert order and writes them as a data file; see the module comment. */
export class PlaceSorter {
  private readonly chunkPlaces: number;
  private readonly keys: Float64Array;
  private readonly lngs: Float64Array;
  private readonly lats: Float64Array;
  private readonly prominences: Float64Array;
  private readonly recordStarts: Uint32Array;
  private readonly records: Buffer;
  private inChunk = 0;
  private recordUsed = 0;
  private readonly runs: { file: string; bytes: number }[] = [];
  private readonly typeIndex = new Map<string, number>();
  private readonly typeNames: string[] = [];
  /** Places added. */
  count = 0;
  /** Record bytes added. */
  recordBytes = 0;

  /** @param runDir - where run files go (created on the first one); the caller removes it. */
  constructor(
    private readonly runDir: string,
    options: PlaceSorterOptions = {},
  ) {
    this.chunkPlaces = Math.min(CHUNK_PLACES, options.chunkPlaces ?? CHUNK_PLACES);
    this.keys = new Float64Array(this.chunkPlaces);
    this.lngs = new Float64Array(this.chunkPlaces);
    this.lats = new Float64Array(this.chunkPlaces);
    this.prominences = new Float64Array(this.chunkPlaces);
    this.recordStarts = new Uint32Array(this.chunkPlaces + 1);
    this.records = Buffer.allocUnsafe(Math.max(options.chunkRecordBytes ?? CHUNK_RECORD_BYTES, 4 * MAX_TEXT_BYTES * 4));
  }

  /** The type table so far; records refer to types by their index in it. */
  get types(): readonly string[] {
    return this.typeNames;
  }

  private typeIndexOf(type: string): number {
    let index = this.typeIndex.get(type);
    if (index === undefined) {
      if (this.typeNames.length >= MAX_TYPES) throw new RangeError(`more than ${MAX_TYPES} distinct place types`);
      index = this.typeNames.length;
      this.typeIndex.set(type, index);
      this.typeNames.push(type);
    }
    return index;
  }

  /**
   * Adds one place (already validated by its importer).
   *
   * @throws {RangeError} past {@link MAX_TYPES} distinct types or `MAX_RECORD_BYTES` of records.
   */
  add(place: ImportedPlace): void {
    const record = {
      name: place.name,
      placeId: place.placeId,
      vicinity: place.vicinity,
      typeIndices: place.types.map((type) => this.typeIndexOf(type)),
    };
    if (this.inChunk === this.chunkPlaces || this.recordUsed + maxRecordBytes(record) > this.records.length)
      this.spill();
    const i = this.inChunk++;
    this.recordStarts[i] = this.recordUsed;
    const end = encodeRecord(record, this.records, this.recordUsed);
    this.recordBytes += end - this.recordUsed;
    if (this.recordBytes > 0xffff_ffff) throw new RangeError('more than 4 GiB of place records');
    this.recordUsed = end;
    this.recordStarts[i + 1] = end;
    this.lngs[i] = place.lng;
    this.lats[i] = place.lat;
    this.prominences[i] = place.prominence === 0 ? 0 : place.prominence; // no -0
    // Hilbert index and chunk position in one exactly representable number: < 2^32 * 2^19 < 2^53.
    this.keys[i] = hilbertIndex(place.lng, place.lat) * this.chunkPlaces + i;
    this.count++;
  }

  /** The chunk's positions in Hilbert order. */
  private sortedChunk(): Float64Array {
    const sorted = this.keys.subarray(0, this.inChunk);
    sorted.sort();
    return sorted;
  }

  private spill(): void {
    if (this.inChunk === 0) return;
    mkdirSync(this.runDir, { recursive: true });
    const file = path.join(this.runDir, `run-${this.runs.length}.bin`);
    const fd = openSync(file, 'w', 0o600);
    const out = new PositionedWriter(fd, 0, RUN_WRITE_BUFFER_BYTES);
    try {
      for (const key of this.sortedChunk()) {
        const i = key % this.chunkPlaces;
        const start = this.recordStarts[i] as number;
        const length = (this.recordStarts[i + 1] as number) - start;
        out.u32((key - i) / this.chunkPlaces);
        out.u32(length);
        out.f64(this.lngs[i] as number);
        out.f64(this.lats[i] as number);
        out.f64(this.prominences[i] as number);
        out.bytes(this.records, start, length);
      }
      out.flush();
    } finally {
      closeSync(fd);
    }
    this.runs.push({ file, bytes: out.end });
    this.inChunk = 0;
    this.recordUsed = 0;
  }

  /**
   * Writes every place added, in Hilbert order, to `tempFile`, then renames it to `out`.
   *
   * @param onProgress - called now and then with the places written so far.
   * @returns the header written. On failure the temporary file is removed.
   */
  async finish(
    out: string,
    tempFile: string,
    meta: Omit<DataFileMeta, 'types'>,
    onProgress: (written: number) => void = () => {},
  ): Promise<PlacesDataHeader> {
    const writer = new DataFileWriter(tempFile, out, this.count, this.recordBytes);
    try {
      let written = 0;
      const step = async (): Promise<void> => {
        if (++written % MERGE_YIELD_EVERY === 0) {
          onProgress(written);
          await yieldToLoop();
        }
      };
      if (this.runs.length === 0) {
        for (const key of this.sortedChunk()) {
          const i = key % this.chunkPlaces;
          const start = this.recordStarts[i] as number;
          writer.append(
            this.lngs[i] as number,
            this.lats[i] as number,
            this.prominences[i] as number,
            this.records,
            start,
            (this.recordStarts[i + 1] as number) - start,
          );
          await step();
        }
      } else {
        this.spill();
        await this.merge(writer, step);
      }
      onProgress(written);
      return writer.finish({ ...meta, types: [...this.typeNames] });
    } catch (error) {
      writer.abort();
      throw error;
    }
  }

  private async merge(writer: DataFileWriter, step: () => Promise<void>): Promise<void> {
    const readers = this.runs.map(({ file, bytes }, index) => new RunReader(openSync(file, 'r'), bytes, index));
    try {
      const less = (a: RunReader, b: RunReader): boolean =>
        a.hilbert !== b.hilbert ? a.hilbert < b.hilbert : a.index < b.index;
      const heap = readers.filter((reader) => reader.next());
      const down = (from: number): void => {
        let i = from;
        for (;;) {
          const left = 2 * i + 1;
          if (left >= heap.length) return;
          const right = left + 1;
          const child = right < heap.length && less(heap[right] as RunReader, heap[left] as RunReader) ? right : left;
          if (!less(heap[child] as RunReader, heap[i] as RunReader)) return;
          [heap[child], heap[i]] = [heap[i] as RunReader, heap[child] as RunReader];
          i = child;
        }
      };
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
      while (heap.length > 0) {
        const top = heap[0] as RunReader;
        writer.append(top.lng, top.lat, top.prominence, top.record, top.recordStart, top.recordLength);
        if (!top.next()) {
          const last = heap.pop() as RunReader;
          if (heap.length === 0) break;
          heap[0] = last;
        }
        down(0);
        await step();
      }
    } finally {
      for (const reader of readers) reader.close();
    }
  }
}
