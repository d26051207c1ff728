/**
 * Parsing client commands and formatting replies (docs/protocol.md "Client commands" and "Links"). Pure functions: no
 * sockets, clocks or logs.
 */
import { splitFields } from './fields.js';
import { hasNonZeroFraction, parseIso6709 } from './location.js';
import { POSIX_TIME, formatTimeDifference, parsePosixTime } from './time.js';

/** Largest WHATSAT radius, in kilometres (docs/protocol.md "Client commands"). */
export const MAX_RADIUS_KM = 50;
/** Largest WHATSAT bound on the number of places (docs/protocol.md "Client commands"). */
export const MAX_BOUND = 20;

/** `IAMAT <client id> <ISO 6709 location> <POSIX time>`: a client says where it is. */
export interface IamatCommand {
  readonly kind: 'IAMAT';
  readonly clientId: string;
  /** The location exactly as sent, echoed verbatim in the AT reply. */
  readonly locationText: string;
  readonly latitude: number;
  readonly longitude: number;
  /** The client's time exactly as sent, echoed verbatim in the AT reply. */
  readonly timeText: string;
  /** The client's time in POSIX nanoseconds. */
  readonly timeNs: bigint;
}

/** `WHATSAT <client id> <radius km> <bound>`: what places are near a client. */
export interface WhatsatCommand {
  readonly kind: 'WHATSAT';
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

const RADIUS = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const BOUND = /^\d{1,9}$/;

/**
 * A WHATSAT radius operand as the command takes it (docs/protocol.md "WHATSAT"): decimal digits with
 * an optional fraction, in (0, {@link MAX_RADIUS_KM}] km.
 *
 * @returns kilometres, or undefined when `text` is not such a radius.
 */
export function whatsatRadiusKm(text: string): number | undefined {
  return RADIUS.test(text) ? parseRadiusKm(text) : undefined;
}

/**
 * A WHATSAT bound operand as the command takes it: decimal digits, an integer in [1, {@link MAX_BOUND}].
 *
 * @returns the bound, or undefined when `text` is not such a bound.
 */
export function whatsatBound(text: string): number | undefined {
  const bound = BOUND.test(text) ? Number(text) : Number.NaN;
  return bound >= 1 && bound <= MAX_BOUND ? bound : undefined;
}

/**
 * The radius of a WHATSAT, judged on its decimal text so that no rounding lets 50.0000000000000001
 * in or keeps 0.000...1 out.
 *
 * @param text - digits with an optional fraction (already matched by {@link RADIUS}).
 * @returns kilometres (at least the smallest double), or undefined when not in (0, 50].
 */
function parseRadiusKm(text: string): number | undefined {
  if (!/[1-9]/.test(text)) return undefined;
  const integer = BigInt(text.split('.')[0] || '0');
  const max = BigInt(MAX_RADIUS_KM);
  if (integer > max || (integer === max && hasNonZeroFraction(text))) return undefined;
  const value = Number(text);
  return value > 0 ? value : Number.MIN_VALUE;
}

function invalid(reason: string): InvalidCommand {
  return { kind: 'INVALID', reason };
}

/**
 * Parses one client line.
 *
 * @param line - the line without its terminator.
 * @returns `undefined` for a line that is only white space (no reply is due), else the command, or an
 *   {@link InvalidCommand} with the reason when the verb, the number of operands or an operand's range
 *   is wrong.
 */
export function parseClientCommand(line: string): ClientCommand | undefined {
  const fields = splitFields(line);
  if (fields.length === 0) return undefined;
  const verb = fields[0];
  if (verb === 'IAMAT') {
    if (fields.length !== 4) return invalid(`IAMAT takes 3 operands, got ${fields.length - 1}`);
    const locationText = fields[2] as string;
    const timeText = fields[3] as string;
    const point = parseIso6709(locationText);
    if (point === undefined) return invalid('bad ISO 6709 location');
    const timeNs = parsePosixTime(timeText);
    if (timeNs === undefined) return invalid('bad POSIX time');
    return {
      kind: 'IAMAT',
      clientId: fields[1] as string,
      locationText,
      latitude: point.latitude,
      longitude: point.longitude,
      timeText,
      timeNs,
    };
  }
  if (verb === 'WHATSAT') {
    if (fields.length !== 4) return invalid(`WHATSAT takes 3 operands, got ${fields.length - 1}`);
    const radiusText = fields[2] as string;
    const boundText = fields[3] as string;
    const radiusKm = whatsatRadiusKm(radiusText);
    if (radiusKm === undefined) return invalid('radius out of (0, 50] km');
    const bound = whatsatBound(boundText);
    if (bound === undefined) return invalid('bound out of [1, 20]');
    return { kind: 'WHATSAT', clientId: fields[1] as string, radiusKm, bound };
  }
  return invalid('unknown command');
}

/**
 * Formats the AT line that acknowledges an IAMAT, without a line terminator:
 * `AT <server> <time difference> <client id> <location> <time>`.
 *
 * @param serverName - the server that received the IAMAT.
 * @param differenceNs - that server's receive time minus the client's time, in nanoseconds.
 * @param command - the IAMAT; its client id, location and time are echoed verbatim.
 */
export function formatAt(serverName: string, differenceNs: bigint, command: IamatCommand): string {
  return `AT ${serverName} ${formatTimeDifference(differenceNs)} ${command.clientId} ${command.locationText} ${command.timeText}`;
}

/** An AT line as parsed from a flood between servers. */
export interface AtMessage {
  /** The whole AT line, normalised to single spaces, without terminator; stored and forwarded as is. */
  readonly line: string;
  readonly serverName: string;
  readonly clientId: string;
  readonly latitude: number;
  readonly longitude: number;
  /** The client's time in POSIX nanoseconds. */
  readonly timeNs: bigint;
}

const TIME_DIFFERENCE = /^[+-]\d+\.\d{9}$/;

/**
 * Parses an AT line received from a peer (docs/protocol.md "Floods").
 *
 * @param line - `AT <server> <time difference> <client id> <location> <time>`.
 * @returns the message, or `undefined` when any field is malformed.
 */
export function parseAt(line: string): AtMessage | undefined {
  return parseAtFields(splitFields(line));
}

/**
 * {@link parseAt} for a line already split with `splitFields` (a server splits each peer line once
 * to read its verb).
 */
export function parseAtFields(fields: readonly string[]): AtMessage | undefined {
  // The same checks as checkAtFields (the fuzz tests hold them to it), with each number parsed once.
  if (fields.length !== 6 || fields[0] !== 'AT' || !TIME_DIFFERENCE.test(fields[2] as string)) return undefined;
  const point = parseIso6709(fields[4] as string);
  const timeNs = parsePosixTime(fields[5] as string);
  if (point === undefined || timeNs === undefined) return undefined;
  return {
    line: fields.join(' '),
    serverName: fields[1] as string,
    clientId: fields[3] as string,
    latitude: point.latitude,
    longitude: point.longitude,
    timeNs,
  };
}

/** Protocol white space other than the space (a line with one is not written with single spaces). */
const OTHER_WHITE_SPACE = /[\t\n\v\f\r]/;

/**
 * Checks an AT line received from a peer without computing its numbers: what a server needs to
 * take a flood (the parsed location and time are read later, only if they are asked for).
 *
 * @param fields - the line split with `splitFields`.
 * @param line - the line as received; when it is already written with single spaces it is returned
 *   as is rather than joined again.
 * @returns the normalised line and its client id, or `undefined` when any field is malformed (the
 *   same lines {@link parseAtFields} refuses).
 */
export function checkAtFields(
  fields: readonly string[],
  line?: string,
): { readonly line: string; readonly clientId: string } | undefined {
  if (fields.length !== 6 || fields[0] !== 'AT') return undefined;
  const [, serverName, difference, clientId, locationText, timeText] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!TIME_DIFFERENCE.test(difference) || !POSIX_TIME.test(timeText) || parseIso6709(locationText) === undefined)
    return undefined;
  const normalisedLength =
    serverName.length + difference.length + clientId.length + locationText.length + timeText.length + 7;
  const normalised = line !== undefined && line.length === normalisedLength && !OTHER_WHITE_SPACE.test(line);
  return { line: normalised ? line : fields.join(' '), clientId };
}

/**
 * The client id of an AT line written with single spaces (`AT <server> <difference> <client id>
 * ...`, as servers write and forward them), found without splitting the line. Does not validate
 * anything else.
 *
 * @returns the fourth field, or `undefined` when the line does not start with `AT ` or has fewer
 *   than five fields.
 */
export function atLineClientId(line: string): string | undefined {
  if (!line.startsWith('AT ')) return undefined;
  const afterServer = line.indexOf(' ', 3);
  if (afterServer === -1) return undefined;
  const afterDifference = line.indexOf(' ', afterServer + 1);
  if (afterDifference === -1) return undefined;
  const afterClientId = line.indexOf(' ', afterDifference + 1);
  if (afterClientId === -1) return undefined;
  return line.slice(afterDifference + 1, afterClientId);
}

/**
 * Formats the reply to an invalid command: `? ` and the line exactly as received (docs/protocol.md
 * "Anything else"), with a line terminator.
 *
 * @param rawLine - the received line without its LF or CRLF terminator.
 */
export function formatInvalidReply(rawLine: string): string {
  return `? ${rawLine}\n`;
}

const NEWLINE_RUNS = /\n{2,}/g;
const TRAILING_NEWLINES = /\n+$/;

/**
 * Formats the WHATSAT reply: the stored AT line, a newline, the JSON document with every run of two
 * or more newlines made one and trailing newlines removed, then two newlines, so the reply ends in
 * exactly one empty line (docs/protocol.md "Client commands").
 *
 * @param atLine - the stored AT line of the client, without terminator.
 * @param json - a Nearby Search response document.
 */
export function formatWhatsatReply(atLine: string, json: string): string {
  // The regular expressions only run when there is something to fix (never for our own printer).
  const body = json.includes('\n\n') ? json.replace(NEWLINE_RUNS, '\n') : json;
  return `${atLine}\n${body.endsWith('\n') ? body.replace(TRAILING_NEWLINES, '') : body}\n\n`;
}
