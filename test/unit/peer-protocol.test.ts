/**
 * The server-to-server greeting (PROTOCOL.md section 3): HELLO from the dialler, WELCOME from the
 * neighbour, each with the server name and its incarnation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatHello, formatWelcome, parseGreeting } from '../../src/peers/peer-protocol.js';

const FC = { seed: 42, numRuns: 500 } as const;

describe('peer greetings', () => {
  test('formatHello and formatWelcome write one terminated line', () => {
    assert.equal(formatHello('Alford', '1718000000000-4f2a'), 'HELLO Alford 1718000000000-4f2a\n');
    assert.equal(formatWelcome('Ball', 'x'), 'WELCOME Ball x\n');
  });

  test('parseGreeting reads HELLO and WELCOME, terminator or not', () => {
    assert.deepEqual(parseGreeting('HELLO Alford inc-1'), {
      verb: 'HELLO',
      serverName: 'Alford',
      incarnation: 'inc-1',
    });
    assert.deepEqual(parseGreeting('WELCOME Ball inc-2\n'), {
      verb: 'WELCOME',
      serverName: 'Ball',
      incarnation: 'inc-2',
    });
    assert.deepEqual(parseGreeting('  HELLO\tAlford   inc-1 \r'), {
      verb: 'HELLO',
      serverName: 'Alford',
      incarnation: 'inc-1',
    });
  });

  test('parseGreeting rejects anything else', () => {
    for (const line of [
      '',
      'HELLO',
      'HELLO Alford',
      'HELLO Alford inc extra',
      'hello Alford inc',
      'Welcome Ball inc',
      'GREETINGS Alford inc',
      'IAMAT kiwi +1+1 5',
      'AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503',
      'HELLO\u00a0Alford inc',
    ]) {
      assert.equal(parseGreeting(line), undefined, JSON.stringify(line));
    }
  });

  test('property: parseGreeting(format(name, incarnation)) gives back the same greeting', () => {
    const token = fc.string({
      unit: fc.constantFrom('A', 'z', '0', '-', '_', '.', 'é', '\u00a0'),
      minLength: 1,
      maxLength: 16,
    });
    fc.assert(
      fc.property(
        fc.constantFrom('HELLO' as const, 'WELCOME' as const),
        token,
        token,
        (verb, serverName, incarnation) => {
          const line = verb === 'HELLO' ? formatHello(serverName, incarnation) : formatWelcome(serverName, incarnation);
          assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1);
          assert.deepEqual(parseGreeting(line), { verb, serverName, incarnation });
        },
      ),
      FC,
    );
  });
});
