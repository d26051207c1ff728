/**
 * The link handshake (docs/protocol.md "Links"): HELLO from the dialler, WELCOME from the neighbour,
 * each with the server name and its incarnation, and with a herd secret the challenge-response that
 * ends with AUTH. Both sides are pure functions, tested here against each other.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  answerHello,
  checkAuth,
  checkWelcome,
  formatAuth,
  formatHello,
  formatWelcome,
  handshakeMac,
  newNonce,
  offerHello,
  parseAuth,
  parseGreeting,
  type LinkIdentity,
} from '../../src/peers/handshake.js';
import { assertRefusesAll } from '../helpers/protocol-text.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

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
    assertRefusesAll(parseGreeting, [
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
    ]);
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

describe('the handshake, both sides', () => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef');
  const alford: LinkIdentity = { name: 'Alford', incarnation: 'inc-1', secret };
  const ball: LinkIdentity = { name: 'Ball', incarnation: 'inc-2', secret };
  const neighbours = (name: string): boolean => name === 'Alford' || name === 'Ball';

  test('without a secret: HELLO is answered with a plain WELCOME and no AUTH follows', () => {
    const plainA = { ...alford, secret: undefined };
    const plainB = { ...ball, secret: undefined };
    const offer = offerHello(plainA);
    assert.equal(offer.line, 'HELLO Alford inc-1\n');
    const answer = answerHello(parseGreeting(offer.line), plainB, neighbours);
    assert.ok(answer.ok);
    assert.equal(answer.peerName, 'Alford');
    assert.equal(answer.expectedAuthMac, undefined);
    assert.deepEqual(checkWelcome(parseGreeting(answer.reply), plainA, 'Ball', offer), {
      ok: true,
      incarnation: 'inc-2',
      authLine: undefined,
    });
  });

  test('with a secret: a full exchange links, and each side proves the secret', () => {
    const offer = offerHello(alford);
    assert.ok(offer.nonce !== undefined);
    const answer = answerHello(parseGreeting(offer.line), ball, neighbours);
    assert.ok(answer.ok && answer.expectedAuthMac !== undefined);
    const welcome = parseGreeting(answer.reply);
    assert.ok(welcome?.nonce !== undefined && welcome.mac !== undefined);
    assert.equal(welcome.mac, handshakeMac(secret, 'WELCOME', 'Ball', 'Alford', offer.nonce, welcome.nonce, 'inc-2'));
    const verdict = checkWelcome(parseGreeting(answer.reply), alford, 'Ball', offer);
    assert.ok(verdict.ok && verdict.authLine !== undefined);
    assert.equal(verdict.incarnation, 'inc-2');
    assert.equal(checkAuth(parseAuth(verdict.authLine), answer.expectedAuthMac), true);
  });

  test('the accepting side refuses what is not a HELLO, strangers, and a HELLO without a challenge', () => {
    assert.deepEqual(answerHello(parseGreeting('IAMAT a +1+1 1'), ball, neighbours), {
      ok: false,
      reason: 'first line is not a HELLO',
    });
    assert.deepEqual(answerHello(parseGreeting('WELCOME Alford 1'), ball, neighbours), {
      ok: false,
      reason: 'first line is not a HELLO',
    });
    assert.deepEqual(answerHello(parseGreeting(formatHello('Mallory', '1', newNonce())), ball, neighbours), {
      ok: false,
      reason: 'not a neighbour',
      peerName: 'Mallory',
    });
    assert.deepEqual(answerHello(parseGreeting(formatHello('Alford', '1')), ball, neighbours), {
      ok: false,
      reason: 'no challenge, but this herd has a secret',
      peerName: 'Alford',
    });
  });

  test('the accepting side refuses an AUTH under another secret, and a replayed one', () => {
    const offer = offerHello(alford);
    const answer = answerHello(parseGreeting(offer.line), ball, neighbours);
    assert.ok(answer.ok && answer.expectedAuthMac !== undefined);
    const welcome = parseGreeting(answer.reply);
    assert.ok(welcome?.nonce !== undefined && offer.nonce !== undefined);
    const forged = formatAuth(
      handshakeMac(
        Buffer.from('another secret, 16+ bytes'),
        'AUTH',
        'Alford',
        'Ball',
        welcome.nonce,
        offer.nonce,
        'inc-1',
      ),
    );
    assert.equal(checkAuth(parseAuth(forged), answer.expectedAuthMac), false);
    const genuine = checkWelcome(parseGreeting(answer.reply), alford, 'Ball', offer);
    assert.ok(genuine.ok && genuine.authLine !== undefined);
    // The same HELLO again gets a new challenge: the earlier AUTH does not answer it.
    const again = answerHello(parseGreeting(offer.line), ball, neighbours);
    assert.ok(again.ok && again.expectedAuthMac !== undefined);
    assert.equal(checkAuth(parseAuth(genuine.authLine), again.expectedAuthMac), false);
    assert.equal(checkAuth(parseAuth('AUTH nothex'), again.expectedAuthMac), false);
  });

  test('the dialling side refuses a WELCOME from the wrong server, without a MAC, or with a bad one', () => {
    const offer = offerHello(alford);
    const answer = answerHello(parseGreeting(offer.line), ball, neighbours);
    assert.ok(answer.ok);
    assert.deepEqual(checkWelcome(parseGreeting('HELLO Ball 1'), alford, 'Ball', offer), {
      ok: false,
      reason: 'not a WELCOME',
    });
    assert.deepEqual(checkWelcome(parseGreeting(answer.reply), alford, 'Hamilton', offer), {
      ok: false,
      reason: 'WELCOME from Ball, not Hamilton',
    });
    assert.deepEqual(checkWelcome(parseGreeting(formatWelcome('Ball', 'inc-2')), alford, 'Ball', offer), {
      ok: false,
      reason: 'neighbour has no herd secret',
    });
    const other = answerHello(
      parseGreeting(offer.line),
      { ...ball, secret: Buffer.from('a different herd secret!') },
      neighbours,
    );
    assert.ok(other.ok);
    assert.deepEqual(checkWelcome(parseGreeting(other.reply), alford, 'Ball', offer), { ok: false, reason: 'bad MAC' });
  });
});
