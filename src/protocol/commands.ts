/**
 * Client commands and their replies (docs/protocol.md#client-commands): a line's bytes in, a typed
 * command out, and the replies as binary strings (src/protocol/bytes.ts). Pure functions: no
 * sockets, clocks or logs. The AT line itself is the codec of ./at-record.ts.
 */
import { isDigit, isUtf8Bytes, POINT, ZERO, type ReplyWithBody } from './bytes.js';
import { bytesEqual, scanFields, type FieldOffsets } from './fields.js';
import { scanIso6709 } from './location.js';
import { isPosixTime } from './time.js';

/** Largest WHATSAT radius, in kilometres (docs/protocol.md#whatsat). */
export const MAX_RADIUS_KM = 50;
/** Largest WHATSAT bound on the number of places (docs/protocol.md#whatsat). */
export const MAX_BOUND = 20;

/** Fields a client command has: the verb and three operands. */
const COMMAND_FIELDS = 4;

/**
 * `IAMAT <client id> <ISO 6709 location> <POSIX time>`: a client says where it is. The operands are
 * byte ranges of the line, kept as bytes so that the AT reply echoes them exactly.
 */
export interface IamatCommand {
  readonly kind: 'IAMAT';
  /** The line's bytes. Valid only while the line is handled (the next line may reuse them). */
  readonly bytes: Buffer;
  /** Offsets of the four fields in `bytes`: 1 the client id, 2 the location, 3 the time. */
  readonly fields: FieldOffsets;
}

/** `WHATSAT <client id> <radius km> <bound>`: what places are near a client. */
export interface WhatsatCommand {
  readonly kind: 'WHATSAT';
  /** The client id, a binary string. */
  readonly clientId: string;
  /** Radius in kilometres, in (0, {@link MAX_RADIUS_KM}]. */
  readonly radiusKm: number;
  /** Most places to return, an integer in [1, {@link MAX_BOUND}]. */
  readonly bound: number;
}

/** A line that is no valid command; it is answered with `? <line>`. */
export interface InvalidCommand {
  readonly kind: 'INVALID';
  /** Why, for the log (never sent to the client). */
  readonly reason: string;
}

/** Any parsed client line. */
export type ClientCommand = IamatCommand | WhatsatCommand | InvalidCommand;

/** Why a radius or bound operand is refused, for the log. */
export const RADIUS_NOT_A_NUMBER = 'radius is not a decimal number of kilometres';
export const RADIUS_OUT_OF_RANGE = `radius out of (0, ${MAX_RADIUS_KM}] km`;
export const BOUND_NOT_A_NUMBER = 'bound is not a whole number';
export const BOUND_OUT_OF_RANGE = `bound out of [1, ${MAX_BOUND}]`;

/**
 * A WHATSAT radius in `bytes[start, end)` (docs/protocol.md#whatsat): digits with an optional
 * fraction (`10`, `0.5`, `.5`, `10.`), in (0, {@link MAX_RADIUS_KM}] km, judged on its decimal text
 * so that no rounding lets 50.0000000000000001 in or keeps 0.000...1 out.
 *
 * @returns kilometres (at least the smallest double), `NaN` when the text is not such a number, or
 *   -1 when it is one out of range.
 */
export function radiusKmAt(bytes: Buffer, start: number, end: number): number {
  let integer = 0;
  let digits = 0;
  let point = -1;
  let nonZero = false;
  let fractionNonZero = false;
  for (let i = start; i < end; i++) {
    const code = bytes[i] as number;
    if (code === POINT && point === -1) {
      point = i;
      continue;
    }
    if (!isDigit(code)) return Number.NaN;
    digits++;
    if (code !== ZERO) nonZero = true;
    if (point === -1) integer = Math.min(integer * 10 + code - ZERO, 1e6);
    else if (code !== ZERO) fractionNonZero = true;
  }
  if (digits === 0) return Number.NaN;
  if (!nonZero || integer > MAX_RADIUS_KM || (integer === MAX_RADIUS_KM && fractionNonZero)) return -1;
  const value = Number(bytes.toString('latin1', start, end));
  return value > 0 ? value : Number.MIN_VALUE;
}

/**
 * A WHATSAT bound in `bytes[start, end)`: decimal digits, an integer in [1, {@link MAX_BOUND}].
 *
 * @returns the bound, `NaN` when the text is not digits, or -1 when it is a number out of range.
 */
export function boundAt(bytes: Buffer, start: number, end: number): number {
  if (start === end) return Number.NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const code = bytes[i] as number;
    if (!isDigit(code)) return Number.NaN;
    value = Math.min(value * 10 + code - ZERO, 1e6);
  }
  return value >= 1 && value <= MAX_BOUND ? value : -1;
}

/** {@link radiusKmAt} of a string (the dashboard's query): kilometres, or undefined when not a valid radius. */
export function whatsatRadiusKm(text: string): number | undefined {
  const bytes = Buffer.from(text, 'utf8');
  const radius = radiusKmAt(bytes, 0, bytes.length);
  return radius > 0 ? radius : undefined;
}

/** {@link boundAt} of a string (the dashboard's query): the bound, or undefined when not a valid bound. */
export function whatsatBound(text: string): number | undefined {
  const bytes = Buffer.from(text, 'utf8');
  const bound = boundAt(bytes, 0, bytes.length);
  return bound > 0 ? bound : undefined;
}

function invalid(reason: string): InvalidCommand {
  return { kind: 'INVALID', reason };
}

/** How many operands a line of `count` fields has, as its refusal says it (only a refused line pays for the text). */
function operandsOf(count: number): string {
  return count > COMMAND_FIELDS ? 'more than 3' : String(count - 1);
}

const UNKNOWN_COMMAND = invalid('unknown command');
const BAD_LOCATION = invalid('bad ISO 6709 location');
const BAD_TIME = invalid('bad POSIX time');
const NOT_UTF8 = invalid('client id is not UTF-8');

/**
 * Parses one client line.
 *
 * @param bytes - holds the line, without its terminator, at `[start, end)`.
 * @param fields - scratch for the field offsets (capacity at least 4); an IAMAT refers to it.
 * @returns `undefined` for a line that is only white space (no reply is due), else the command, or an
 *   {@link InvalidCommand} with the reason when the verb, the number of operands or an operand is
 *   wrong (a client id that is not valid UTF-8 is refused: docs/protocol.md#iamat says why).
 */
export function parseClientCommand(
  bytes: Buffer,
  start: number,
  end: number,
  fields: FieldOffsets,
): ClientCommand | undefined {
  const count = scanFields(bytes, start, end, fields);
  if (count === 0) return undefined;
  const verbStart = fields.start(0);
  const verbEnd = fields.end(0);
  if (bytesEqual(bytes, verbStart, verbEnd, 'IAMAT')) {
    if (count !== COMMAND_FIELDS) return invalid(`IAMAT takes 3 operands, got ${operandsOf(count)}`);
    if (scanIso6709(bytes, fields.start(2), fields.end(2)) === -1) return BAD_LOCATION;
    if (!isPosixTime(bytes, fields.start(3), fields.end(3))) return BAD_TIME;
    if (!isUtf8Bytes(bytes, fields.start(1), fields.end(1))) return NOT_UTF8;
    return { kind: 'IAMAT', bytes, fields };
  }
  if (bytesEqual(bytes, verbStart, verbEnd, 'WHATSAT')) {
    if (count !== COMMAND_FIELDS) return invalid(`WHATSAT takes 3 operands, got ${operandsOf(count)}`);
    const radiusKm = radiusKmAt(bytes, fields.start(2), fields.end(2));
    if (!(radiusKm > 0)) return invalid(Number.isNaN(radiusKm) ? RADIUS_NOT_A_NUMBER : RADIUS_OUT_OF_RANGE);
    const bound = boundAt(bytes, fields.start(3), fields.end(3));
    if (!(bound > 0)) return invalid(Number.isNaN(bound) ? BOUND_NOT_A_NUMBER : BOUND_OUT_OF_RANGE);
    if (!isUtf8Bytes(bytes, fields.start(1), fields.end(1))) return NOT_UTF8;
    return { kind: 'WHATSAT', clientId: bytes.toString('latin1', fields.start(1), fields.end(1)), radiusKm, bound };
  }
  return UNKNOWN_COMMAND;
}

/**
 * Formats the reply to an invalid command: `? ` and the line exactly as received (docs/protocol.md
 * #anything-else), with a line terminator.
 *
 * @param line - the received line without its LF or CRLF terminator, a binary string.
 */
export function formatInvalidReply(line: string): string {
  return `? ${line}\n`;
}

const NEWLINE_RUNS = /\n{2,}/g;
const TRAILING_NEWLINES = /\n+$/;

/**
 * The end of a WHATSAT reply, after its AT line: the JSON document, then two newlines, so the reply
 * ends in exactly one empty line (docs/protocol.md#whatsat). Made once per document (and kept with
 * a cached one), not once per reply.
 *
 * @param json - a Nearby Search response document (text, written as UTF-8), its newlines already
 *   made single and none at the end ({@link normalizeJsonNewlines}).
 * @returns the bytes, a new Buffer.
 */
export function formatWhatsatBody(json: string): Buffer {
  return Buffer.from(`${json}\n\n`, 'utf8');
}

/**
 * Formats the WHATSAT reply: the stored AT line, a newline, then `body` as it is (its bytes are not
 * copied: docs/protocol.md#whatsat).
 *
 * @param atLine - the stored AT line of the client, without terminator, a binary string.
 * @param body - the document and the reply's ending, from {@link formatWhatsatBody}.
 */
export function formatWhatsatReply(atLine: string, body: Buffer): ReplyWithBody {
  return { head: `${atLine}\n`, body };
}

/**
 * A JSON document with every run of two or more newlines made one and trailing newlines removed, as
 * the WHATSAT reply prints it. The regular expressions only run when there is something to fix
 * (never for our own printer).
 */
export function normalizeJsonNewlines(json: string): string {
  const body = json.includes('\n\n') ? json.replace(NEWLINE_RUNS, '\n') : json;
  return body.endsWith('\n') ? body.replace(TRAILING_NEWLINES, '') : body;
}
