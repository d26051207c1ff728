/**
 * Whole reads and buffered writes at a file offset, synchronous: what the importer's files are made
 * of (the run files of src/places/import/place-sorter.ts, each section of the data file of
 * src/places/import/data-file-writer.ts). Numbers are little-endian, as the data format wants
 * (src/places/offline/data-format.ts).
 */
import { readSync, writeSync } from 'node:fs';

/** Default buffer of a {@link PositionedWriter}, bytes. */
export const POSITIONED_WRITER_BUFFER_BYTES = 1 << 20;

/** Writes `buffer[start, start + length)` at `position` of `fd`, however many writes it takes. */
export function writeFully(fd: number, buffer: Buffer, start: number, length: number, position: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, buffer, start + done, length - done, position + done);
}

/**
 * Reads `length` bytes at `position` of `fd` into `buffer` from `start`, however many reads it takes.
 *
 * @throws {RangeError} when the file ends first.
 */
export function readFully(fd: number, buffer: Buffer, start: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const read = readSync(fd, buffer, start + done, length - done, position + done);
    if (read === 0) throw new RangeError(`file ends ${length - done} bytes short of ${position + length}`);
    done += read;
  }
}

/** Buffered writes to one region of a file, from its start onwards. */
export class PositionedWriter {
  private readonly buffer: Buffer;
  private used = 0;

  /**
   * @param position - where the first byte goes, bytes from the start of the file.
   * @param bufferBytes - @default {@link POSITIONED_WRITER_BUFFER_BYTES}
   */
  constructor(
    private readonly fd: number,
    private position: number,
    bufferBytes: number = POSITIONED_WRITER_BUFFER_BYTES,
  ) {
    this.buffer = Buffer.allocUnsafe(bufferBytes);
  }

  /** Where the next byte goes, bytes from the start of the file (written or still buffered). */
  get end(): number {
    return this.position + this.used;
  }

  private room(bytes: number): void {
    if (this.used + bytes > this.buffer.length) this.flush();
  }

  f64(value: number): void {
    this.room(8);
    this.used = this.buffer.writeDoubleLE(value, this.used);
  }

  u32(value: number): void {
    this.room(4);
    this.used = this.buffer.writeUInt32LE(value, this.used);
  }

  bytes(source: Buffer, start: number, length: number): void {
    if (length > this.buffer.length) {
      this.flush();
      writeFully(this.fd, source, start, length, this.position);
      this.position += length;
      return;
    }
    this.room(length);
    source.copy(this.buffer, this.used, start, start + length);
    this.used += length;
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.used === 0) return;
    writeFully(this.fd, this.buffer, 0, this.used, this.position);
    this.position += this.used;
    this.used = 0;
  }
}
