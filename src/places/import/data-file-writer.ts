/**
 * Writes a places data file (src/places/offline/data-format.ts) from places that arrive in Hilbert
 * order, in one pass and bounded memory: each section has its own small buffer written at its own
 * offset (the layout is known from the place count and record bytes), leaf boxes are computed as
 * places arrive, and each upper level of the tree is computed by reading back the level below it.
 * The file is written under a temporary name and renamed into place by {@link DataFileWriter.finish}.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import {
  NODE_FIELDS,
  NODE_SIZE,
  PLACES_DATA_VERSION,
  PREAMBLE_BYTES,
  encodePreamble,
  headerOffset,
  layoutSections,
  treeLevels,
  type PlacesDataHeader,
} from '../offline/data-format.js';
import { PositionedWriter, readFully, writeFully } from './positioned-io.js';

/** Nodes read at a time when an upper tree level is built. */
const LEVEL_READ_NODES = NODE_SIZE * 4096;

/** The sections of a data file, as its header names them. */
type SectionName = keyof PlacesDataHeader['sections'];

/** What the header says besides the layout, which the writer fills in. */
export type DataFileMeta = Pick<PlacesDataHeader, 'attributions' | 'types' | 'sources' | 'generator'>;

/** Writes one data file; see the module comment. */
export class DataFileWriter {
  private readonly fd: number;
  private readonly sections: PlacesDataHeader['sections'];
  private readonly levels: number[];
  /** A writer per section, each from the section's start. */
  private readonly writers: Readonly<Record<SectionName, PositionedWriter>>;
  private written = 0;
  private recordBytesWritten = 0;
  private box = [Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  private finished = false;

  /**
   * @param tempFile - written, then renamed to `out` by {@link finish}; removed by {@link abort}.
   * @param count - places that will be appended.
   * @param recordBytes - their record bytes in total.
   */
  constructor(
    private readonly tempFile: string,
    private readonly out: string,
    private readonly count: number,
    private readonly recordBytes: number,
  ) {
    this.sections = layoutSections(count, recordBytes);
    this.levels = treeLevels(count);
    this.fd = openSync(tempFile, 'w+', 0o644);
    const at = (name: SectionName): PositionedWriter => new PositionedWriter(this.fd, this.sections[name][0]);
    this.writers = {
      coordinates: at('coordinates'),
      prominence: at('prominence'),
      recordOffsets: at('recordOffsets'),
      nodes: at('nodes'),
      records: at('records'),
    };
  }

  /** Appends the next place in Hilbert order; its record is `record[start, start + length)`. */
  append(lng: number, lat: number, prominence: number, record: Buffer, start: number, length: number): void {
    const writers = this.writers;
    writers.coordinates.f64(lng);
    writers.coordinates.f64(lat);
    writers.prominence.f64(prominence);
    writers.recordOffsets.u32(this.recordBytesWritten);
    writers.records.bytes(record, start, length);
    this.recordBytesWritten += length;
    const box = this.box;
    if (lng < (box[0] as number)) box[0] = lng;
    if (lat < (box[1] as number)) box[1] = lat;
    if (lng > (box[2] as number)) box[2] = lng;
    if (lat > (box[3] as number)) box[3] = lat;
    if (prominence > (box[4] as number)) box[4] = prominence;
    this.written++;
    if (this.written % NODE_SIZE === 0 || this.written === this.count) this.flushLeaf();
  }

  private flushLeaf(): void {
    for (const value of this.box) this.writers.nodes.f64(value);
    this.box = [Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  }

  /** Builds level `level` of the tree from level `level - 1`, already on disk. */
  private buildLevel(level: number, belowStart: number): void {
    const below = this.levels[level - 1] as number;
    const chunk = Buffer.allocUnsafe(LEVEL_READ_NODES * NODE_FIELDS * 8);
    const nodeBytes = NODE_FIELDS * 8;
    for (let first = 0; first < below; first += LEVEL_READ_NODES) {
      const nodes = Math.min(LEVEL_READ_NODES, below - first);
      const position = this.sections.nodes[0] + (belowStart + first) * nodeBytes;
      readFully(this.fd, chunk, 0, nodes * nodeBytes, position);
      for (let group = 0; group < nodes; group += NODE_SIZE) {
        const box = [Infinity, Infinity, -Infinity, -Infinity, -Infinity];
        for (let n = group; n < Math.min(nodes, group + NODE_SIZE); n++) {
          const at = n * nodeBytes;
          box[0] = Math.min(box[0] as number, chunk.readDoubleLE(at));
          box[1] = Math.min(box[1] as number, chunk.readDoubleLE(at + 8));
          box[2] = Math.max(box[2] as number, chunk.readDoubleLE(at + 16));
          box[3] = Math.max(box[3] as number, chunk.readDoubleLE(at + 24));
          box[4] = Math.max(box[4] as number, chunk.readDoubleLE(at + 32));
        }
        for (const value of box) this.writers.nodes.f64(value);
      }
    }
  }

  /**
   * Completes the file (the tree's upper levels, the header), syncs it and renames it to `out`.
   *
   * @returns the header written.
   * @throws {Error} when fewer or more places were appended than announced (a bug), or on I/O errors.
   */
  finish(meta: DataFileMeta): PlacesDataHeader {
    if (this.written !== this.count || this.recordBytesWritten !== this.recordBytes)
      throw new Error(`data file writer: ${this.written} of ${this.count} places appended`);
    this.writers.recordOffsets.u32(this.recordBytesWritten);
    // Each level is read back from the file to build the next, so the one below must be written first.
    for (const writer of Object.values(this.writers)) writer.flush();
    // Node counts are multiples of NODE_SIZE within each chunk, so groups never straddle two reads.
    let start = 0;
    for (let level = 1; level < this.levels.length; level++) {
      this.buildLevel(level, start);
      this.writers.nodes.flush();
      start += this.levels[level - 1] as number;
    }
    const header: PlacesDataHeader = {
      format: 'herd-places',
      version: PLACES_DATA_VERSION,
      count: this.count,
      levels: this.levels,
      sections: this.sections,
      attributions: meta.attributions,
      types: meta.types,
      sources: meta.sources,
      createdAt: new Date().toISOString(),
      generator: meta.generator,
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const at = headerOffset(this.sections);
    writeFully(this.fd, json, 0, json.length, at);
    writeFully(this.fd, encodePreamble(at, json.length), 0, PREAMBLE_BYTES, 0);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.finished = true;
    renameSync(this.tempFile, this.out);
    return header;
  }

  /** Closes and removes the temporary file (after a failure). Safe to call more than once. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
    rmSync(this.tempFile, { force: true });
  }
}
