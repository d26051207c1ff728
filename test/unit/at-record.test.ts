/**
 * The AT record's codec (src/protocol/at-record.ts, docs/protocol.md#iamat and #floods): the line a
 * server writes for an IAMAT, and the line a server takes from a link, written and read back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTimeDifference, parsePosixTime } from '../../src/protocol/time.js';
import { FieldOffsets } from '../../src/protocol/fields.js';
import { parseLinkMessage } from '../../src/peers/link-messages.js';
import {
  formatAtText,
  iamatView,
  parseAtText,
  parseText,
  type IamatView,
  assertRefusesAll,
} from '../helpers/protocol-text.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

const WS = [' ', '\t', '\r', '\n', '\f', '\v'] as const;

function iamat(line: string): IamatView {
  const command = parseText(line);
  assert.ok(command !== undefined && command.kind === 'IAMAT', `${JSON.stringify(line)} -> ${command?.kind}`);
  return iamatView(command);
}

/** Non-white-space text: ASCII, Unicode letters and Unicode spaces the protocol does not split on. */
const token = fc.string({
  unit: fc.constantFrom('a', 'k', 'Z', '0', '9', '.', '-', '_', '+', '@', 'é', '中', '\u{1f600}', '\u00a0', '\u3000'),
  minLength: 1,
  maxLength: 12,
});
const wsRun = (minLength: number) => fc.string({ unit: fc.constantFrom(...WS), minLength, maxLength: 3 });
const digits = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), minLength, maxLength });

describe('writeAtLine (the AT record codec)', () => {
  test('formats the protocol example', () => {
    const line = 'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503';
    const command = iamat(line);
    const receivedNs = 1_621_464_828_223_371_889n;
    assert.equal(
      formatAtText('Alford', receivedNs - command.timeNs, line),
      'AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503',
    );
  });

  test('a client clock ahead of the server gives a negative difference; equal clocks +0', () => {
    const line = 'IAMAT c +27.5916+086.5640 1621464830.000000001';
    const command = iamat(line);
    assert.equal(
      formatAtText('Ball', 1_621_464_827_000_000_000n - command.timeNs, line),
      'AT Ball -3.000000001 c +27.5916+086.5640 1621464830.000000001',
    );
    assert.equal(formatAtText('Ball', 0n, line), 'AT Ball +0.000000000 c +27.5916+086.5640 1621464830.000000001');
  });

  test('echoes client id, location and time verbatim, not re-formatted', () => {
    assert.equal(
      formatAtText('Welsh', 1n, 'IAMAT\tkiwi\u00a0café  +27.5916+086.5640 \t1621464827.50 '),
      'AT Welsh +0.000000001 kiwi\u00a0café +27.5916+086.5640 1621464827.50',
    );
  });

  test('property: fields 3-5 of the reply are the IAMAT operands as sent; field 2 is the exact difference', () => {
    const location = fc
      .tuple(
        fc.constantFrom('+', '-'),
        fc.integer({ min: 0, max: 89 }),
        digits(0, 8),
        fc.constantFrom('+', '-'),
        fc.integer({ min: 0, max: 179 }),
        digits(0, 8),
        fc.integer({ min: 0, max: 3 }),
      )
      .map(
        ([s1, d1, f1, s2, d2, f2, pad]) =>
          `${s1}${String(d1).padStart(pad, '0')}${f1 === '' ? '' : `.${f1}`}${s2}${String(d2).padStart(pad, '0')}${f2 === '' ? '' : `.${f2}`}`,
      );
    const time = fc.tuple(digits(1, 12), digits(0, 9)).map(([s, f]) => (f === '' ? s : `${s}.${f}`));
    fc.assert(
      fc.property(
        token,
        location,
        time,
        wsRun(0),
        fc.array(wsRun(1), { minLength: 3, maxLength: 3 }),
        wsRun(0),
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        (clientId, loc, t, lead, seps, trail, receivedOffsetNs) => {
          const line = `${lead}IAMAT${seps[0] as string}${clientId}${seps[1] as string}${loc}${seps[2] as string}${t}${trail}`;
          const command = iamat(line);
          const timeNs = parsePosixTime(t);
          assert.ok(timeNs !== undefined);
          const receivedNs = timeNs + receivedOffsetNs;
          const reply = formatAtText('Hamilton', receivedNs - command.timeNs, line);
          assert.equal(reply, `AT Hamilton ${formatTimeDifference(receivedOffsetNs)} ${clientId} ${loc} ${t}`);
        },
      ),
      FC,
    );
  });
});

describe('parseAtRecord (the AT record codec)', () => {
  test('parses an AT line and keeps it as the stored line', () => {
    const line = 'AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503';
    assert.deepEqual(parseAtText(line), {
      line,
      serverName: 'Alford',
      clientId: 'kiwi.cs.ucla.edu',
      latitude: 34.06893,
      longitude: -118.445127,
      timeNs: 1_621_464_827_959_498_503n,
    });
  });

  test('normalises white space in the stored line to single spaces', () => {
    const message = parseAtText('  AT\tAlford  -3.000000001 c\t+1+1  5\r');
    assert.equal(message?.line, 'AT Alford -3.000000001 c +1+1 5');
  });

  test('rejects malformed AT lines', () => {
    assertRefusesAll(parseAtText, [
      '',
      'AT',
      'AT Alford +0.263873386 kiwi +1+1',
      'AT Alford +0.263873386 kiwi +1+1 5 6',
      'at Alford +0.263873386 kiwi +1+1 5',
      'IAMAT Alford +0.263873386 kiwi +1+1 5',
      'AT Alford 0.263873386 kiwi +1+1 5',
      'AT Alford +0.26387338 kiwi +1+1 5',
      'AT Alford +0.2638733861 kiwi +1+1 5',
      'AT Alford +0 kiwi +1+1 5',
      'AT Alford +0.263873386 kiwi +91+1 5',
      'AT Alford +0.263873386 kiwi +1+1 5.1234567890',
    ]);
  });

  test('property: reading a written AT line recovers server, client, location and time', () => {
    fc.assert(
      fc.property(
        token,
        token,
        fc.integer({ min: -90, max: 90 }),
        fc.integer({ min: -180, max: 180 }),
        fc.bigInt({ min: 0n, max: 10n ** 19n }),
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        (server, clientId, lat, lng, timeNs, differenceNs) => {
          const timeText = formatTimeDifference(timeNs).slice(1);
          const locationText = `${lat < 0 ? '-' : '+'}${Math.abs(lat)}${lng < 0 ? '-' : '+'}${Math.abs(lng)}`;
          const line = formatAtText(server, differenceNs, `IAMAT ${clientId} ${locationText} ${timeText}`);
          assert.deepEqual(parseAtText(line), {
            line,
            serverName: server,
            clientId,
            latitude: lat,
            longitude: lng,
            timeNs,
          });
        },
      ),
      FC,
    );
  });
});

describe('heldAtRecord (a flood that is exactly the line held)', () => {
  const HELD = 'AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503';
  const store = new Map([['kiwi.cs.ucla.edu', HELD]]);
  const heldLine = (clientId: string): string | undefined => store.get(clientId);
  /** What a link makes of `line` (a binary string), with the held lines and without. */
  function both(line: string): { withHeld: unknown; without: unknown; sameLine: boolean } {
    const bytes = Buffer.from(line, 'latin1');
    const withHeld = parseLinkMessage(bytes, 0, bytes.length, new FieldOffsets(6), heldLine);
    const without = parseLinkMessage(bytes, 0, bytes.length, new FieldOffsets(6));
    return { withHeld, without, sameLine: withHeld.type === 'AT' && withHeld.atLine === HELD };
  }

  test('the held line again is taken as the held line, its client id a slice of it', () => {
    const { withHeld, without, sameLine } = both(HELD);
    assert.deepEqual(withHeld, { type: 'AT', atLine: HELD, clientId: 'kiwi.cs.ucla.edu' });
    assert.deepEqual(withHeld, without);
    assert.ok(sameLine);
  });

  test('any other line is parsed and checked as without it', () => {
    for (const line of [
      HELD.replace('503', '504'), // newer
      HELD.replace('Alford', 'Ball'),
      HELD.replace(' kiwi', '  kiwi'), // other spacing: normalised
      `${HELD} `,
      HELD.replace('kiwi.cs.ucla.edu', 'other'), // a client not held
      HELD.replace('+34.068930', '+94.068930'), // malformed
      HELD.replace('+0.263873386', '+0.26387338'), // malformed
      `${HELD} 1`, // seven fields
    ]) {
      const { withHeld, without } = both(line);
      assert.deepEqual(withHeld, without, line);
    }
  });
});
