/**
 * Fuzzing the pure layer (issue "Hostile clients and networks"): any bytes, split anywhere, frame
 * into the same lines; parsing never throws; every non-blank line is a command or an INVALID.
 * HERD_FUZZ_RUNS raises the number of runs; HERD_FUZZ_SEED replays a failure.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  atLineClientId,
  checkAtFields,
  parseAt,
  parseAtFields,
  parseClientCommand,
} from '../../src/protocol/commands.js';
import { LineSplitter } from '../../src/protocol/line-splitter.js';
import { parseGreeting } from '../../src/peers/handshake.js';
import { parseSyncMessage } from '../../src/peers/anti-entropy-messages.js';
import { splitFields } from '../../src/protocol/fields.js';
import { FUZZ_SEED, commandLike, fuzzRuns, lineStream, modelLines, needsReply, splitAt } from '../helpers/fuzz.js';

const RUNS = { seed: FUZZ_SEED, numRuns: fuzzRuns(3000) };

describe('fuzz: framing and parsing', () => {
  test('checkAtFields takes exactly the AT lines parseAtFields takes, with the same normalised line', () => {
    const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', ' \t', '\r', '\v');
    const field = fc.constantFrom(
      'Alford',
      '+0.263873386',
      '-1.000000000',
      '+0.5',
      'kiwi',
      'é中',
      '+34.068930-118.445127',
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
        const fields = splitFields(text);
        const full = parseAtFields(fields);
        const checked = checkAtFields(fields, text);
        assert.equal(checked === undefined, full === undefined, text);
        if (checked !== undefined && full !== undefined) {
          assert.equal(checked.line, full.line);
          assert.equal(checked.clientId, full.clientId);
          assert.equal(atLineClientId(checked.line), full.clientId);
        }
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
          const splitter = new LineSplitter((line) => lines.push(line), { maxLineBytes: 1 << 20 });
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
        const command = parseClientCommand(line);
        if (!needsReply(line)) assert.equal(command, undefined);
        else assert.ok(command !== undefined && ['IAMAT', 'WHATSAT', 'INVALID'].includes(command.kind));
        if (command?.kind === 'IAMAT') {
          assert.ok(
            command.latitude >= -90 && command.latitude <= 90 && command.longitude >= -180 && command.longitude <= 180,
          );
          assert.equal(typeof command.timeNs, 'bigint');
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

  test('the peer-side parsers never throw on any line', () => {
    fc.assert(
      fc.property(fc.oneof(commandLike, fc.string(), fc.string({ unit: 'binary' })), (line) => {
        parseAt(line);
        parseGreeting(line);
        parseSyncMessage(splitFields(line));
      }),
      RUNS,
    );
  });
});
