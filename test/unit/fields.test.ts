/**
 * Field splitting (docs/protocol.md "Client commands"): fields are separated by runs of space, tab, CR, LF, FF and
 * VT; leading and trailing white space is ignored; Unicode spaces are ordinary field characters.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isProtocolWhiteSpace, splitFields } from '../../src/protocol/fields.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

const PROTOCOL_WHITE_SPACE = [' ', '\t', '\r', '\n', '\f', '\v'] as const;
/** White space to JavaScript's `\s` or Unicode, but not to the protocol. */
const UNICODE_SPACES = [
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2003',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
  '\u0085',
  '\u200b',
] as const;

describe('isProtocolWhiteSpace', () => {
  test('is true for exactly space, tab, CR, LF, FF and VT among all UTF-16 code units', () => {
    const expected = new Set(PROTOCOL_WHITE_SPACE.map((c) => c.charCodeAt(0)));
    for (let code = 0; code <= 0xffff; code++) {
      assert.equal(isProtocolWhiteSpace(code), expected.has(code), `U+${code.toString(16)}`);
    }
  });
});

describe('splitFields', () => {
  test('splits on single spaces', () => {
    assert.deepEqual(splitFields('WHATSAT kiwi.cs.ucla.edu 10 5'), ['WHATSAT', 'kiwi.cs.ucla.edu', '10', '5']);
  });

  test('splits on runs of mixed white space and ignores leading and trailing white space', () => {
    assert.deepEqual(splitFields(' \t IAMAT\t\tkiwi   +1+1 \r\n\f\v 5 \t\r'), ['IAMAT', 'kiwi', '+1+1', '5']);
  });

  test('each of the six white-space characters separates and is trimmed', () => {
    for (const ws of PROTOCOL_WHITE_SPACE) {
      assert.deepEqual(splitFields(`${ws}a${ws}b${ws}${ws}c${ws}`), ['a', 'b', 'c'], JSON.stringify(ws));
    }
  });

  test('an empty or white-space-only line has no fields', () => {
    assert.deepEqual(splitFields(''), []);
    assert.deepEqual(splitFields(' '), []);
    assert.deepEqual(splitFields(' \t\r\n\f\v '), []);
  });

  test('Unicode spaces are not separators and stay inside the field', () => {
    for (const u of UNICODE_SPACES) {
      assert.deepEqual(splitFields(`a${u}b c`), [`a${u}b`, 'c'], `U+${u.charCodeAt(0).toString(16)}`);
      assert.deepEqual(splitFields(` ${u} `), [u], `U+${u.charCodeAt(0).toString(16)} alone`);
    }
  });

  test('property: fields joined by any white-space runs split back to the same fields', () => {
    const fieldChar = fc.oneof(
      fc.constantFrom('a', 'Z', '0', '.', '+', '-', 'é', '中', '\u{1f600}', 'x'),
      fc.constantFrom(...UNICODE_SPACES),
    );
    const field = fc.string({ unit: fieldChar, minLength: 1, maxLength: 8 });
    const run = (minLength: number) =>
      fc.string({ unit: fc.constantFrom(...PROTOCOL_WHITE_SPACE), minLength, maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(field, { minLength: 0, maxLength: 6 }),
        run(0),
        run(0),
        fc.array(run(1), { minLength: 6, maxLength: 6 }),
        (fields, lead, trail, seps) => {
          const line = lead + fields.map((f, i) => (i === 0 ? f : (seps[i] as string) + f)).join('') + trail;
          assert.deepEqual(splitFields(line), fields);
        },
      ),
      FC,
    );
  });
});
