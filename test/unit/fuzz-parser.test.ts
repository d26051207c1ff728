/**
 * Fuzzing the pure layer (issue "Hostile clients and networks"): any bytes, split anywhere, frame
 * into the same lines; parsing never throws; every non-blank line is a command or an INVALID.
 * HERD_FUZZ_RUNS raises the number of runs; HERD_FUZZ_SEED replays a failure.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { parseAtRecord } from '../../src/protocol/at-record.js';
import { FieldOffsets } from '../../src/protocol/fields.js';
import { parseLinkMessage } from '../../src/peers/link-messages.js';
import { iamatView, parseText } from '../helpers/protocol-text.js';
import { LineSplitter } from '../../src/protocol/line-splitter.js';
import { splitFields } from '../../src/protocol/fields.js';
import { FUZZ_SEED, commandLike, fuzzRuns, lineStream, modelLines, needsReply, splitAt } from '../helpers/fuzz.js';

const RUNS = { seed: FUZZ_SEED, numRuns: fuzzRuns(3000) };

describe('fuzz: framing and parsing', () => {
  test('the AT codec takes exactly the lines a plain statement of the AT grammar takes, written with single spaces', () => {
    const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', ' \t', '\r', '\v');
    const field = fc.constantFrom(
      'Alford',
      '+0.263873386',
      '-1.000000000',
      '+0.5',
      'kiwi',
      'é中',
      '\xff',
      '+34.068930-118.445127',
      '+90.0+180.000',
      '+90.01+0',
      '+91+0',
      '1621464827.959498503',
      '01.5',
      '1.1234567890',
      'x',
    );
    const atLine = fc
      .tuple(fc.constantFrom('AT', 'at', 'AT'), fc.array(fc.tuple(separator, field), { minLength: 4, maxLength: 6 }))
      .map(([verb, rest]) => verb + rest.map(([sep, f]) => sep + f).join(''));
    fc.assert(
      fc.property(fc.oneof(atLine, fc.string()), fc.constantFrom('', ' ', '\t'), (line, edge) => {
        const text = `${edge}${line}${edge}`;
        // '\xff' stands for a byte that is not UTF-8; everything else is UTF-8 text.
        const bytes = Buffer.from(text.replaceAll('\xff', '\u{1f600}'), 'utf8');
        for (let i = bytes.indexOf(0xf0); i !== -1; i = bytes.indexOf(0xf0, i + 1)) bytes[i + 1] = 0x28;
        const record = parseAtRecord(bytes, 0, bytes.length, new FieldOffsets(6));
        const expected = referenceAtLine(bytes);
        assert.equal(record?.atLine, expected, text);
        if (record !== undefined) assert.equal(record.clientId, expected?.split(' ')[3]);
      }),
      RUNS,
    );
  });

  test("any byte stream, split anywhere, gives the model's lines", () => {
    fc.assert(
      fc.property(
        lineStream,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
        (bytes, cuts) => {
          const lines: string[] = [];
          const splitter = new LineSplitter((data, start, end) => lines.push(data.toString('latin1', start, end)), {
            maxLineBytes: 1 << 20,
          });
          for (const chunk of splitAt(bytes, cuts)) splitter.push(chunk);
          splitter.end();
          assert.deepEqual(lines, modelLines(bytes));
        },
      ),
      RUNS,
    );
  });

  test('parseClientCommand never throws; blank lines give undefined, others a command or INVALID', () => {
    fc.assert(
      fc.property(fc.oneof(commandLike, fc.string(), fc.string({ unit: 'binary' })), (line) => {
        const command = parseText(line);
        if (!needsReply(line)) assert.equal(command, undefined);
        else assert.ok(command !== undefined && ['IAMAT', 'WHATSAT', 'INVALID'].includes(command.kind));
        if (command?.kind === 'IAMAT') {
          const view = iamatView(command);
          assert.ok(view.latitude >= -90 && view.latitude <= 90 && view.longitude >= -180 && view.longitude <= 180);
          assert.equal(typeof view.timeNs, 'bigint');
        }
        if (command?.kind === 'WHATSAT')
          assert.ok(
            command.radiusKm > 0 &&
              command.radiusKm <= 50 &&
              Number.isInteger(command.bound) &&
              command.bound >= 1 &&
              command.bound <= 20,
          );
      }),
      RUNS,
    );
  });

  test('the link parser never throws on any line, and says what is wrong with one it cannot read', () => {
    fc.assert(
      fc.property(fc.oneof(commandLike, fc.string(), fc.string({ unit: 'binary' })), (line) => {
        const bytes = Buffer.from(line, 'utf8');
        const message = parseLinkMessage(bytes, 0, bytes.length, new FieldOffsets(6));
        if (message.type === 'MALFORMED') assert.ok(message.reason.length > 0);
      }),
      RUNS,
    );
  });
});

/**
 * The AT grammar stated plainly on whole fields, with regular expressions (docs/protocol.md#floods):
 * six fields, `AT`, a server, a signed time difference with nine fraction digits, a UTF-8 client id,
 * an ISO 6709 location in range (judged on its text at the bounds), a POSIX time.
 *
 * @returns the line written with single spaces, as a binary string, or undefined when it is not one.
 */
function referenceAtLine(bytes: Buffer): string | undefined {
  const fields = splitFields(bytes.toString('latin1'));
  if (fields.length !== 6 || fields[0] !== 'AT') return undefined;
  const [, , difference, clientId, location, time] = fields as [string, string, string, string, string, string];
  if (!/^[+-]\d+\.\d{9}$/.test(difference) || !/^\d+(\.\d{1,9})?$/.test(time)) return undefined;
  if (!isUtf8(Buffer.from(clientId, 'latin1'))) return undefined;
  const match = /^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)$/.exec(location);
  if (match === null) return undefined;
  const beyond = (text: string, limit: number): boolean => {
    const value = Math.abs(Number(text));
    return value > limit || (value === limit && /\.\d*[1-9]/.test(text));
  };
  if (beyond(match[1] as string, 90) || beyond(match[2] as string, 180)) return undefined;
  return fields.join(' ');
}
