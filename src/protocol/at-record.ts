/**
 * The AT record, the one message the herd exists to spread (docs/protocol.md#iamat and #floods):
 *
 *     AT <server> <time difference> <client id> <ISO 6709 location> <POSIX time>
 *
 * The server that received an IAMAT writes it ({@link writeAtLine}), answers the client with it,
 * stores it and floods it; every other server takes it from a link ({@link parseAtRecord}), stores it
 * when it is newer, and forwards the very same line. This module is the one codec of that line: every
 * rule of its fields lives here or in the field modules it calls (location.ts, time.ts, bytes.ts).
 * A record is held as its line, a binary string (src/protocol/bytes.ts) with single spaces and no
 * terminator; the offsets of its fields are found again from the spaces when needed.
 */
import { isDigit, isUtf8Bytes, MINUS, PLUS, POINT, SPACE } from './bytes.js';
import { bytesEqual, FieldOffsets, scanFields } from './fields.js';
import { readIso6709, scanIso6709, type LatLng } from './location.js';
import {
  isPosixTime,
  MAX_TIME_DIFFERENCE_BYTES,
  parsePosixTime,
  writeTimeDifference,
  type PosixInstant,
} from './time.js';

/** An AT record: its line and the client it is about. */
export interface AtRecord {
  /** The AT line without terminator, fields separated by single spaces, as a binary string. */
  readonly atLine: string;
  /**
   * Its client id (the fourth field), a binary string: the client's exact bytes. A slice of
   * {@link atLine} (as this codec and the IAMAT command make it), so that the store keys the record
   * by it and keeps nothing else alive (src/store/location-store.ts).
   */
  readonly clientId: string;
}

/** An AT record with its location and time read, for those who need the numbers (places, the dashboard). */
export interface ParsedAtRecord extends AtRecord, LatLng {
  /** The name of the server that received the IAMAT. */
  readonly serverName: string;
  /** The client's POSIX time, in nanoseconds. */
  readonly timeNs: bigint;
}

/** Fields of an AT line. */
const AT_FIELDS = 6;

/**
 * Whether `bytes[start, end)` is a time difference as an AT line prints it: a sign, digits, a point
 * and exactly nine digits.
 */
function isTimeDifference(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 12 || (bytes[start] !== PLUS && bytes[start] !== MINUS) || bytes[end - 10] !== POINT) return false;
  for (let i = start + 1; i < end; i++) {
    if (i === end - 10) continue;
    if (!isDigit(bytes[i] as number)) return false;
  }
  return true;
}

/**
 * Checks and takes the AT line in `bytes[start, end)` (a line from a link, or from the store).
 *
 * @param fields - scratch for the field offsets (capacity at least 6), reused across calls.
 * @returns the record, its line written with single spaces, or `undefined` when any field is
 *   malformed: not six fields, not `AT`, a bad time difference, a client id that is not UTF-8, a bad
 *   location or time.
 */
export function parseAtRecord(bytes: Buffer, start: number, end: number, fields: FieldOffsets): AtRecord | undefined {
  if (scanFields(bytes, start, end, fields) !== AT_FIELDS || !validFields(bytes, fields)) return undefined;
  const first = fields.start(0);
  const last = fields.end(5);
  let atLine: string;
  if (singleSpacedSpan(bytes, fields)) {
    atLine = bytes.toString('latin1', first, last);
  } else {
    atLine = bytes.toString('latin1', fields.start(0), fields.end(0));
    for (let i = 1; i < AT_FIELDS; i++) atLine += ` ${bytes.toString('latin1', fields.start(i), fields.end(i))}`;
  }
  const idStart = fields.length(0) + fields.length(1) + fields.length(2) + 3;
  return { atLine, clientId: atLine.slice(idStart, idStart + fields.length(3)) };
}

/** Whether the six fields found are an AT record's: the verb `AT`, a time difference, a UTF-8 client id, a location, a time. */
function validFields(bytes: Buffer, fields: FieldOffsets): boolean {
  return (
    bytesEqual(bytes, fields.start(0), fields.end(0), 'AT') &&
    isTimeDifference(bytes, fields.start(2), fields.end(2)) &&
    isUtf8Bytes(bytes, fields.start(3), fields.end(3)) &&
    scanIso6709(bytes, fields.start(4), fields.end(4)) !== -1 &&
    isPosixTime(bytes, fields.start(5), fields.end(5))
  );
}

/** Whether the fields fill their span with one space between each two (the line as servers write it). */
function singleSpacedSpan(bytes: Uint8Array, fields: FieldOffsets): boolean {
  let fieldBytes = 0;
  for (let i = 0; i < AT_FIELDS; i++) fieldBytes += fields.length(i);
  return fields.end(5) - fields.start(0) === fieldBytes + AT_FIELDS - 1 && singleSpaced(bytes, fields);
}

/**
 * The record of the AT line in `bytes[start, end)` (a line from a link), its client looked up in the
 * store first. When the line is exactly the one held for its client (the commonest stale flood: the
 * same update come again by a second path), that held line is the record, and its fields are not
 * checked again: it was checked when it was stored. Any other line is checked as
 * {@link parseAtRecord} checks it, and a line as servers write it (single spaces) is not copied
 * again: its client id, a slice of it, is the key that was looked up, so a new client's flood costs
 * one look-up of the store's table (the store remembers the miss, src/store/location-store.ts).
 *
 * @param fields - the offsets of the line's fields, as `scanFields` left them for these bytes.
 * @param heldLine - the AT line held for a client id (a binary string), if any.
 * @returns the record, as {@link parseAtRecord} would return it; `undefined` when it is malformed.
 */
export function heldAtRecord(
  bytes: Buffer,
  start: number,
  end: number,
  fields: FieldOffsets,
  heldLine: (clientId: string) => string | undefined,
): AtRecord | undefined {
  if (fields.count !== AT_FIELDS || !singleSpacedSpan(bytes, fields)) return parseAtRecord(bytes, start, end, fields);
  const first = fields.start(0);
  const idStart = fields.start(3) - first;
  const idEnd = fields.end(3) - first;
  const line = bytes.toString('latin1', first, fields.end(5));
  const clientId = line.slice(idStart, idEnd);
  const held = heldLine(clientId);
  if (held === line) return { atLine: held, clientId: held.slice(idStart, idEnd) };
  return validFields(bytes, fields) ? { atLine: line, clientId } : undefined;
}

/** Whether every separator between the fields is one space byte. */
function singleSpaced(bytes: Uint8Array, fields: FieldOffsets): boolean {
  for (let i = 1; i < AT_FIELDS; i++) if (bytes[fields.start(i) - 1] !== SPACE) return false;
  return true;
}

/** Scratch of {@link checkAtLine}. */
const CHECK_FIELDS = new FieldOffsets(AT_FIELDS);

/**
 * Checks a stored or received AT line held as a binary string.
 *
 * @returns the record, or `undefined` when it is not a valid AT line.
 */
export function checkAtLine(atLine: string): AtRecord | undefined {
  const bytes = Buffer.from(atLine, 'latin1');
  return parseAtRecord(bytes, 0, bytes.length, CHECK_FIELDS);
}

/** Where the client id of a single-spaced AT line starts: after its third space. */
export function clientIdStartOf(atLine: string): number {
  return atLine.indexOf(' ', atLine.indexOf(' ', 3) + 1) + 1;
}

/** The client id of a single-spaced AT line (as the store holds them), found from its spaces. */
export function clientIdOf(atLine: string): string {
  const start = clientIdStartOf(atLine);
  return atLine.slice(start, atLine.indexOf(' ', start));
}

/** Where the POSIX time (the last field) of a single-spaced AT line starts. */
export function timeStartOf(atLine: string): number {
  return atLine.lastIndexOf(' ') + 1;
}

/** The server name of a single-spaced AT line (`AT <server> ...`). */
export function serverNameOf(atLine: string): string {
  const end = atLine.indexOf(' ', 3);
  return end === -1 ? '' : atLine.slice(3, end);
}

/**
 * The location of a single-spaced AT line known to be valid (one the store holds), read where the
 * two signs are, without checking it again: the dashboard reads a million of them per scan.
 */
export function locationOf(atLine: string): LatLng {
  const timeAt = atLine.lastIndexOf(' ');
  const start = atLine.lastIndexOf(' ', timeAt - 1) + 1;
  let split = start + 1;
  while (split < timeAt) {
    const code = atLine.charCodeAt(split);
    if (code === PLUS || code === MINUS) break;
    split++;
  }
  return { latitude: Number(atLine.substring(start, split)), longitude: Number(atLine.substring(split, timeAt)) };
}

/**
 * Reads the numbers of a single-spaced AT line known to be valid (one the store holds).
 *
 * @throws {TypeError} when the line is not a valid AT line (never for a line the store accepted).
 */
export function readAtRecord(atLine: string): ParsedAtRecord {
  const serverEnd = atLine.indexOf(' ', 3);
  const idStart = atLine.indexOf(' ', serverEnd + 1) + 1;
  const idEnd = atLine.indexOf(' ', idStart);
  const timeStart = atLine.lastIndexOf(' ') + 1;
  const location = Buffer.from(atLine.slice(idEnd + 1, timeStart - 1), 'latin1');
  const longitudeAt = scanIso6709(location, 0, location.length);
  const timeNs = parsePosixTime(atLine.slice(timeStart));
  if (serverEnd < 4 || idEnd === -1 || longitudeAt === -1 || timeNs === undefined)
    throw new TypeError(`not an AT line: ${JSON.stringify(atLine)}`);
  const { latitude, longitude } = readIso6709(location, 0, longitudeAt, location.length);
  return {
    atLine,
    clientId: atLine.slice(idStart, idEnd),
    serverName: atLine.slice(3, serverEnd),
    latitude,
    longitude,
    timeNs,
  };
}

/** Most bytes an AT line adds to an IAMAT's three operands, besides the server's name: `AT`, a time difference, spaces. */
export const AT_LINE_OVERHEAD_BYTES = 3 + 1 + MAX_TIME_DIFFERENCE_BYTES + 3;

/**
 * Writes the AT line that acknowledges an IAMAT into `out` at 0 (docs/protocol.md#iamat):
 * `AT <server> <time difference> <client id> <location> <time>`, the last three exactly as the
 * client sent them, joined by single spaces.
 *
 * @param serverName - the receiving server's name, as bytes.
 * @param received - when the server received the IAMAT.
 * @param clientTime - the client's time, read from its field.
 * @param line - the IAMAT line's bytes; `fields` holds its four fields' offsets.
 * @returns the length of the line written. `out` must hold {@link AT_LINE_OVERHEAD_BYTES}, the
 *   server name's length and the line's length.
 */
export function writeAtLine(
  out: Buffer,
  serverName: Uint8Array,
  received: PosixInstant,
  clientTime: PosixInstant,
  line: Buffer,
  fields: FieldOffsets,
): number {
  out[0] = 0x41; // A
  out[1] = 0x54; // T
  out[2] = SPACE;
  out.set(serverName, 3);
  let at = 3 + serverName.length;
  out[at++] = SPACE;
  at = writeTimeDifference(out, at, received, clientTime);
  // Byte by byte: fields of tens of bytes, for which Buffer#copy's argument checks and views cost
  // more than the copy (Node 20; seen as `_copyActual` in the profile of an IAMAT-loaded server).
  for (let i = 1; i < 4; i++) {
    out[at++] = SPACE;
    const end = fields.end(i);
    for (let j = fields.start(i); j < end; j++) out[at++] = line[j] as number;
  }
  return at;
}
