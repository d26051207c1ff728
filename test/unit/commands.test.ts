/**
 * Client commands (docs/protocol.md "Client commands"): IAMAT and WHATSAT parsed, blank lines and
 * other commands; and the reason a WHATSAT operand is refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BOUND_NOT_A_NUMBER,
  BOUND_OUT_OF_RANGE,
  MAX_BOUND,
  MAX_RADIUS_KM,
  RADIUS_NOT_A_NUMBER,
  RADIUS_OUT_OF_RANGE,
  type ClientCommand,
  type WhatsatCommand,
} from '../../src/protocol/commands.js';
import { iamatView, parseText, type IamatView } from '../helpers/protocol-text.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

function iamat(line: string): IamatView {
  const command = parseText(line);
  assert.ok(command !== undefined && command.kind === 'IAMAT', `${JSON.stringify(line)} -> ${command?.kind}`);
  return iamatView(command);
}

function whatsat(line: string): WhatsatCommand {
  const command = parseText(line);
  assert.ok(
    command !== undefined && command.kind === 'WHATSAT',
    `${JSON.stringify(line)} -> ${JSON.stringify(command)}`,
  );
  return command;
}

function assertInvalid(line: string): void {
  const command: ClientCommand | undefined = parseText(line);
  assert.equal(command?.kind, 'INVALID', JSON.stringify(line));
}

describe('parseClientCommand: IAMAT', () => {
  test('parses the protocol example', () => {
    const command = iamat('IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503');
    assert.deepEqual(command, {
      kind: 'IAMAT',
      clientId: 'kiwi.cs.ucla.edu',
      locationText: '+34.068930-118.445127',
      latitude: 34.06893,
      longitude: -118.445127,
      timeText: '1621464827.959498503',
      timeNs: 1_621_464_827_959_498_503n,
    });
  });

  test('keeps the location and time text exactly as typed', () => {
    const command = iamat('IAMAT everest +27.5916+086.5640 1621464827.5');
    assert.equal(command.locationText, '+27.5916+086.5640');
    assert.equal(command.latitude, 27.5916);
    assert.equal(command.longitude, 86.564);
    assert.equal(command.timeText, '1621464827.5');
    assert.equal(command.timeNs, 1_621_464_827_500_000_000n);
  });

  test('accepts tabs, runs of white space and leading and trailing white space as separators', () => {
    for (const line of [
      'IAMAT\tkiwi\t+1+1\t5',
      '   IAMAT    kiwi  +1+1      5   ',
      '\t IAMAT \t kiwi\f+1+1\v5\r',
      'IAMAT kiwi +1+1 5\r\n',
    ]) {
      const command = iamat(line);
      assert.equal(command.clientId, 'kiwi', JSON.stringify(line));
      assert.equal(command.locationText, '+1+1');
      assert.equal(command.timeText, '5');
    }
  });

  test('a client id is any run of non-white-space characters, Unicode spaces included', () => {
    assert.equal(iamat('IAMAT kiwi\u00a0café☕ +1+1 5').clientId, 'kiwi\u00a0café☕');
    assert.equal(iamat('IAMAT IAMAT +1+1 5').clientId, 'IAMAT');
    assert.equal(iamat('IAMAT ? +1+1 5').clientId, '?');
  });

  test('accepts the range bounds of latitude and longitude', () => {
    for (const location of ['+90+180', '-90-180', '+90.000000-180.000000', '-00.000000+000.000000']) {
      assert.equal(iamat(`IAMAT c ${location} 1`).locationText, location);
    }
  });

  test('rejects a latitude outside [-90, 90] or a longitude outside [-180, 180]', () => {
    for (const location of ['+90.000001+0', '-90.000001+0', '+0+180.000001', '+0-180.000001', '+91-118', '+34+200']) {
      assertInvalid(`IAMAT c ${location} 1621464827.959498503`);
    }
  });

  test('rejects malformed locations', () => {
    for (const location of [
      '34.068930-118.445127',
      '+34.068930',
      '+34.068930 -118.445127',
      '+34.0689x-118.4',
      'here',
    ]) {
      assertInvalid(`IAMAT c ${location} 1621464827.959498503`);
    }
  });

  test('accepts times with 0 to 9 fractional digits and rejects 10', () => {
    for (let n = 0; n <= 9; n++) {
      const time = n === 0 ? '1621464827' : `1621464827.${'123456789'.slice(0, n)}`;
      const command = iamat(`IAMAT c +1+1 ${time}`);
      assert.equal(command.timeText, time);
      assert.equal(
        command.timeNs,
        1_621_464_827_000_000_000n + (n === 0 ? 0n : BigInt('123456789'.slice(0, n).padEnd(9, '0'))),
      );
    }
    assertInvalid('IAMAT c +1+1 1621464827.1234567890');
  });

  test('rejects malformed times', () => {
    for (const time of ['-1621464827', '+1621464827', '1.6e9', 'now', '1621464827,5', '.5']) {
      assertInvalid(`IAMAT c +1+1 ${time}`);
    }
  });

  test('rejects the wrong number of operands', () => {
    for (const line of ['IAMAT', 'IAMAT kiwi', 'IAMAT kiwi +1+1', 'IAMAT kiwi +1+1 5 extra', 'IAMAT kiwi +1+1 5 6 7']) {
      assertInvalid(line);
    }
  });
});

describe('parseClientCommand: WHATSAT', () => {
  test('parses the protocol example', () => {
    assert.deepEqual(whatsat('WHATSAT kiwi.cs.ucla.edu 10 5'), {
      kind: 'WHATSAT',
      clientId: 'kiwi.cs.ucla.edu',
      radiusKm: 10,
      bound: 5,
    });
  });

  test('accepts white-space runs and tabs as separators', () => {
    assert.deepEqual(whatsat('\tWHATSAT\t\tkiwi   10 \t 5  \r'), {
      kind: 'WHATSAT',
      clientId: 'kiwi',
      radiusKm: 10,
      bound: 5,
    });
  });

  test('accepts a radius greater than 0 and at most 50, decimals included', () => {
    for (const [text, value] of [
      ['0.001', 0.001],
      ['0.5', 0.5],
      ['1', 1],
      ['10.25', 10.25],
      ['49.9999', 49.9999],
      ['50', 50],
      ['50.0', 50],
      ['50.000000', 50],
    ] as const) {
      assert.equal(whatsat(`WHATSAT c ${text} 5`).radiusKm, value, text);
    }
    assert.equal(MAX_RADIUS_KM, 50);
  });

  test('rejects a radius of 0, above 50, negative or not a decimal number', () => {
    for (const text of [
      '0',
      '0.0',
      '0.000',
      '50.0001',
      '50.000001',
      '51',
      '1000',
      '-1',
      '-0.5',
      '+10',
      '1e1',
      '0x10',
      'Infinity',
      'NaN',
      'ten',
      '10km',
      '1,5',
    ]) {
      assertInvalid(`WHATSAT c ${text} 5`);
    }
  });

  test('accepts every integer bound from 1 to 20', () => {
    for (let bound = 1; bound <= 20; bound++) assert.equal(whatsat(`WHATSAT c 10 ${bound}`).bound, bound);
    assert.equal(MAX_BOUND, 20);
  });

  test('rejects a bound outside 1..20 or not an integer', () => {
    for (const text of ['0', '21', '100', '-1', '1.5', '5.0', '1e1', '+5', 'five', '99999999999999999999']) {
      assertInvalid(`WHATSAT c 10 ${text}`);
    }
  });

  test('rejects the wrong number of operands', () => {
    for (const line of ['WHATSAT', 'WHATSAT kiwi', 'WHATSAT kiwi 10', 'WHATSAT kiwi 10 5 5']) assertInvalid(line);
  });

  test('property: radii in thousandths are accepted iff in (0, 50]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), (thousandths) => {
        const text = `${Math.floor(thousandths / 1000)}.${String(thousandths % 1000).padStart(3, '0')}`;
        const command = parseText(`WHATSAT c ${text} 20`);
        if (thousandths > 0 && thousandths <= 50_000) {
          assert.equal(command?.kind, 'WHATSAT', text);
          assert.equal(command.radiusKm, thousandths / 1000);
        } else {
          assert.equal(command?.kind, 'INVALID', text);
        }
      }),
      FC,
    );
  });

  test('property: integer bounds are accepted iff in [1, 20]', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1_000_000 }), (bound) => {
        const command = parseText(`WHATSAT c 10 ${bound}`);
        assert.equal(command?.kind, bound >= 1 && bound <= 20 ? 'WHATSAT' : 'INVALID', String(bound));
      }),
      FC,
    );
  });

  test('a radius above 50 or above 0 by less than a double can show is judged on its decimal value', () => {
    assertInvalid('WHATSAT c 50.0000000000000001 5');
    assert.equal(parseText(`WHATSAT c 0.${'0'.repeat(399)}1 5`)?.kind, 'WHATSAT');
  });
});

describe('parseClientCommand: blank lines and other commands', () => {
  test('a blank or white-space-only line gives undefined (no reply)', () => {
    for (const line of ['', ' ', '\t', '\r', '   \t  ', ' \t\r\n\f\v ']) {
      assert.equal(parseText(line), undefined, JSON.stringify(line));
    }
  });

  test('a line of Unicode spaces is not blank and is invalid', () => {
    assertInvalid('\u00a0');
    assertInvalid('\u3000 \u2028');
  });

  test('unknown verbs, wrong case and AT lines from clients are invalid', () => {
    for (const line of [
      'HELLO',
      'iamat kiwi +1+1 5',
      'Whatsat kiwi 10 5',
      'IAMAT\u00a0kiwi +1+1 5',
      'AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503',
      'HELLO Alford 1',
      '?',
      'IAMATkiwi +1+1 5',
    ]) {
      assertInvalid(line);
    }
  });

  test('an invalid command says why', () => {
    const command = parseText('IAMAT kiwi +1+1');
    assert.ok(command?.kind === 'INVALID');
    assert.ok(command.reason.length > 0);
  });
});

describe('the reason a WHATSAT operand is refused', () => {
  test('tells a value that is not a number from a number out of range', () => {
    for (const [line, reason] of [
      ['WHATSAT x 10km 5', RADIUS_NOT_A_NUMBER],
      ['WHATSAT x ten 5', RADIUS_NOT_A_NUMBER],
      ['WHATSAT x 51 5', RADIUS_OUT_OF_RANGE],
      ['WHATSAT x 0 5', RADIUS_OUT_OF_RANGE],
      ['WHATSAT x 10 five', BOUND_NOT_A_NUMBER],
      ['WHATSAT x 10 1.5', BOUND_NOT_A_NUMBER],
      ['WHATSAT x 10 21', BOUND_OUT_OF_RANGE],
      ['WHATSAT x 10 0', BOUND_OUT_OF_RANGE],
    ] as const) {
      const command = parseText(line);
      assert.equal(command?.kind, 'INVALID', line);
      assert.equal(command.reason, reason, line);
    }
    assert.match(RADIUS_OUT_OF_RANGE, new RegExp(`${MAX_RADIUS_KM}`));
    assert.match(BOUND_OUT_OF_RANGE, new RegExp(`${MAX_BOUND}`));
  });
});
