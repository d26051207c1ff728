/**
 * Fields of a protocol line (docs/protocol.md#framing): separated by one or more white-space bytes
 * (space, tab, CR, LF, FF, VT), leading and trailing white space ignored. Deliberately not
 * JavaScript's `\s`, which also matches Unicode spaces (U+00A0, U+2028, ...) that may be part of a
 * client id: in UTF-8 those are multi-byte sequences of bytes >= 0x80, never one of these six.
 *
 * Lines are bytes: {@link scanFields} finds the fields of a line as byte offsets without decoding it
 * (the hot path); {@link splitFields} splits a string the same way (configs, handshakes, tests).
 */

/** True for the six protocol white-space bytes (or UTF-16 code units): space, and TAB through CR. */
export function isProtocolWhiteSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/**
 * Where the fields of one line are: `offsets[2i]` is the first byte of field `i` and `offsets[2i + 1]`
 * one past its last. Reused from line to line, so scanning allocates nothing.
 */
export class FieldOffsets {
  /** Start and end of each field found by the last {@link scanFields}, in pairs. */
  readonly offsets: Int32Array;
  /** Fields found by the last scan (at most `capacity`; see {@link scanFields} for the overflow). */
  count = 0;

  /** @param capacity - most fields a scan records. */
  constructor(readonly capacity: number) {
    this.offsets = new Int32Array(capacity * 2);
  }

  /** First byte of field `i`. */
  start(i: number): number {
    return this.offsets[2 * i] as number;
  }

  /** One past the last byte of field `i`. */
  end(i: number): number {
    return this.offsets[2 * i + 1] as number;
  }

  /** Bytes in field `i`. */
  length(i: number): number {
    return (this.offsets[2 * i + 1] as number) - (this.offsets[2 * i] as number);
  }
}

/**
 * Finds the fields of `bytes[start, end)`: records up to `fields.capacity` of them in `fields` and
 * sets `fields.count` to the number found, or to `capacity + 1` when the line has more (the caller
 * only needs to know it has too many).
 *
 * @returns `fields.count`; 0 for a line that is only white space.
 */
export function scanFields(bytes: Uint8Array, start: number, end: number, fields: FieldOffsets): number {
  const offsets = fields.offsets;
  const capacity = fields.capacity;
  let count = 0;
  let i = start;
  for (;;) {
    while (i < end && isProtocolWhiteSpace(bytes[i] as number)) i++;
    if (i === end) break;
    if (count === capacity) {
      count++;
      break;
    }
    offsets[2 * count] = i;
    while (i < end && !isProtocolWhiteSpace(bytes[i] as number)) i++;
    offsets[2 * count + 1] = i;
    count++;
  }
  fields.count = count;
  return count;
}

/** Whether `bytes[start, end)` holds exactly the ASCII text `word`. */
export function bytesEqual(bytes: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** One or more protocol white-space characters. */
const WHITE_SPACE = /[ \t\r\n\f\v]+/;

/**
 * Splits a line held as a string into its fields, by the same rule as {@link scanFields}.
 *
 * @param line - one line without its terminator.
 * @returns the fields, or an empty array for a line that is only white space.
 */
export function splitFields(line: string): string[] {
  let start = 0;
  let end = line.length;
  while (start < end && isProtocolWhiteSpace(line.charCodeAt(start))) start++;
  while (end > start && isProtocolWhiteSpace(line.charCodeAt(end - 1))) end--;
  if (start === end) return [];
  return (start === 0 && end === line.length ? line : line.slice(start, end)).split(WHITE_SPACE);
}
