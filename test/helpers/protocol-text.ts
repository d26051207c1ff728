/**
 * The protocol's byte-level codecs (src/protocol/) driven with text, for tests that state lines as
 * strings: a line is encoded as UTF-8, parsed, and what comes back is decoded again, so assertions
 * read as the protocol's examples do.
 */
import assert from 'node:assert/strict';
import { checkAtLine, readAtRecord, writeAtLine, AT_LINE_OVERHEAD_BYTES } from '../../src/protocol/at-record.js';
import { binaryOfText, textOfBinary } from '../../src/protocol/bytes.js';
import { parseClientCommand, type ClientCommand, type IamatCommand } from '../../src/protocol/commands.js';
import { FieldOffsets } from '../../src/protocol/fields.js';
import { readIso6709, scanIso6709 } from '../../src/protocol/location.js';
import { instantOfNs, nsOfInstant, parsePosixTime, readPosixTime } from '../../src/protocol/time.js';

/** {@link parseClientCommand} of a line given as text. */
export function parseText(line: string): ClientCommand | undefined {
  const bytes = Buffer.from(line, 'utf8');
  return parseClientCommand(bytes, 0, bytes.length, new FieldOffsets(4));
}

/** An IAMAT's operands as text and numbers. */
export interface IamatView {
  readonly kind: 'IAMAT';
  readonly clientId: string;
  readonly locationText: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly timeText: string;
  readonly timeNs: bigint;
}

/** What an IAMAT command says, read from its bytes. */
export function iamatView(command: IamatCommand): IamatView {
  const { bytes, fields } = command;
  const field = (i: number): string => bytes.toString('utf8', fields.start(i), fields.end(i));
  const longitudeAt = scanIso6709(bytes, fields.start(2), fields.end(2));
  const { latitude, longitude } = readIso6709(bytes, fields.start(2), longitudeAt, fields.end(2));
  return {
    kind: 'IAMAT',
    clientId: field(1),
    locationText: field(2),
    latitude,
    longitude,
    timeText: field(3),
    timeNs: parsePosixTime(field(3)) as bigint,
  };
}

/**
 * The AT line a server named `server` writes for the IAMAT `line` when it receives it
 * `differenceNs` after the client's time, through the codec's own writer.
 *
 * @throws {TypeError} when `line` is not a valid IAMAT.
 */
export function formatAtText(server: string, differenceNs: bigint, line: string): string {
  return Buffer.from(formatAtBinary(server, differenceNs, Buffer.from(line, 'utf8')), 'latin1').toString('utf8');
}

/** {@link formatAtText} of an IAMAT given as bytes: the AT line as a binary string. */
export function formatAtBinary(server: string, differenceNs: bigint, bytes: Buffer): string {
  const line = bytes.toString('latin1');
  const fields = new FieldOffsets(4);
  const command = parseClientCommand(bytes, 0, bytes.length, fields);
  if (command?.kind !== 'IAMAT') throw new TypeError(`not an IAMAT: ${line}`);
  const clientTime = { seconds: 0, nanoseconds: 0 };
  if (!readPosixTime(bytes, fields.start(3), fields.end(3), clientTime)) throw new TypeError(`time too far: ${line}`);
  const received = instantOfNs(nsOfInstant(clientTime) + differenceNs);
  const name = Buffer.from(server, 'utf8');
  const out = Buffer.alloc(AT_LINE_OVERHEAD_BYTES + name.length + bytes.length);
  const length = writeAtLine(out, name, received, clientTime, bytes, fields);
  return out.toString('latin1', 0, length);
}

/** An AT line's fields as text. */
export interface AtView {
  readonly line: string;
  readonly serverName: string;
  readonly clientId: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly timeNs: bigint;
}

/** An AT line given as text, checked and read by the codec; `undefined` when it is malformed. */
export function parseAtText(line: string): AtView | undefined {
  const record = checkAtLine(binaryOfText(line));
  if (record === undefined) return undefined;
  const parsed = readAtRecord(record.atLine);
  return {
    line: textOfBinary(record.atLine),
    serverName: textOfBinary(parsed.serverName),
    clientId: textOfBinary(record.clientId),
    latitude: parsed.latitude,
    longitude: parsed.longitude,
    timeNs: parsed.timeNs,
  };
}

/** Asserts that `parse` refuses (returns undefined for) every one of `inputs`, naming the one it did not. */
export function assertRefusesAll(parse: (text: string) => unknown, inputs: readonly string[]): void {
  for (const input of inputs) assert.equal(parse(input), undefined, JSON.stringify(input));
}
