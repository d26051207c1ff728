/**
 * The tree messages (src/peers/tree-messages.ts): written and read back through the link reader
 * (src/peers/link-messages.ts), whole and byte by byte; cut to the line bound; malformed ones refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LinkReader, type LinkHandlers, type LinkMessage } from '../../src/peers/link-messages.js';
import {
  atLineHash,
  hasAtLineHash,
  formatGraftLines,
  formatIHaveLines,
  formatPrune,
  parseTreeMessage,
} from '../../src/peers/tree-messages.js';
import { hash64 } from '../../src/store/hash.js';

/** Reads `text` (a binary string) through a LinkReader fed `chunkBytes` at a time; returns the messages. */
function read(text: string, chunkBytes = Infinity): LinkMessage[] {
  const messages: LinkMessage[] = [];
  const keep = (message: LinkMessage): void => {
    messages.push(message);
  };
  const handlers = new Proxy({} as LinkHandlers, { get: () => keep });
  const reader = new LinkReader(handlers, { maxLineBytes: 4096, onOverflow: () => assert.fail('overflow') });
  const bytes = Buffer.from(text, 'latin1');
  for (let start = 0; start < bytes.length; start += Math.min(chunkBytes, bytes.length))
    reader.push(bytes.subarray(start, start + Math.min(chunkBytes, bytes.length)));
  reader.finish();
  return messages;
}

const AT = 'AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503';

describe('tree messages', () => {
  test('an AT line hashes to the 16 hex digits of the digest hash (src/store/hash.ts)', () => {
    const out = new Uint32Array(2);
    hash64(AT, out);
    assert.equal(
      atLineHash(AT),
      `${(out[0] as number).toString(16).padStart(8, '0')}${(out[1] as number).toString(16).padStart(8, '0')}`,
    );
    assert.match(atLineHash(''), /^[0-9a-f]{16}$/);
  });

  test("a line has a hash exactly when the hash is the line's 16 hex digits", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (line, other) => {
        const hash = atLineHash(line);
        assert.equal(hasAtLineHash(line, hash), true);
        assert.equal(hasAtLineHash(line, atLineHash(other)), atLineHash(other) === hash);
        assert.equal(hasAtLineHash(line, hash.toUpperCase()), hash === hash.toUpperCase());
        assert.equal(hasAtLineHash(line, hash.slice(1)), false);
        assert.equal(hasAtLineHash(line, `${hash}0`), false);
      }),
    );
    // Not hex digits where the hash has them: never equal, whatever the line.
    assert.equal(hasAtLineHash(AT, 'g'.repeat(16)), false);
    assert.equal(hasAtLineHash(AT, `${atLineHash(AT).slice(0, 15)}/`), false);
  });

  test('IHAVE, PRUNE and GRAFT lines read back as written, whole and byte by byte', () => {
    const hash = atLineHash(AT);
    const text = [
      ...formatIHaveLines('Alford', ['kiwi.cs.ucla.edu', hash, 'caf\xc3\xa9', hash], 4096),
      formatPrune('Ball'),
      ...formatGraftLines('Hamilton', ['a', 'b'], 4096),
      ...formatGraftLines('Welsh', [], 4096),
    ]
      .map((line) => `${line}\n`)
      .join('');
    const expected: LinkMessage[] = [
      { type: 'IHAVE', root: 'Alford', entries: ['kiwi.cs.ucla.edu', hash, 'caf\xc3\xa9', hash] },
      { type: 'PRUNE', root: 'Ball' },
      { type: 'GRAFT', root: 'Hamilton', clientIds: ['a', 'b'] },
      { type: 'GRAFT', root: 'Welsh', clientIds: [] },
    ];
    assert.deepEqual(read(text), expected);
    assert.deepEqual(read(text, 1), expected);
  });

  test('property: IHAVE and GRAFT lines stay within the line bound and carry every entry once, in order', () => {
    const id = fc.string({ unit: fc.constantFrom('a', 'z', '.', '\xc3', '\xa9', '9'), minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(fc.array(id, { maxLength: 300 }), fc.integer({ min: 120, max: 4096 }), (ids, maxLineBytes) => {
        const entries = ids.flatMap((clientId) => [clientId, atLineHash(clientId)]);
        const ihave = formatIHaveLines('Root', entries, maxLineBytes);
        const graft = formatGraftLines('Root', ids, maxLineBytes);
        for (const line of [...ihave, ...graft]) assert.ok(line.length <= maxLineBytes, `${line.length} bytes`);
        const readEntries = ihave.flatMap((line) => {
          const message = parseTreeMessage(line.split(' '));
          assert.equal(message?.type, 'IHAVE');
          return message?.type === 'IHAVE' ? message.entries : [];
        });
        assert.deepEqual(readEntries, entries);
        const readIds = graft.flatMap((line) => {
          const message = parseTreeMessage(line.split(' '));
          return message?.type === 'GRAFT' ? message.clientIds : ['not a GRAFT'];
        });
        assert.deepEqual(readIds, ids);
        assert.equal(ihave.length === 0, ids.length === 0);
      }),
    );
  });

  test('malformed tree lines are MALFORMED, with the reason', () => {
    for (const line of [
      'IHAVE',
      'IHAVE Alford',
      'IHAVE Alford kiwi',
      'IHAVE Alford kiwi 0123456789ABCDEF',
      'IHAVE Alford kiwi 0123456789abcde',
      'IHAVE Alford kiwi 0123456789abcdef lime',
      'PRUNE',
      'PRUNE Alford Ball',
      'GRAFT',
    ]) {
      const [message] = read(`${line}\n`);
      assert.equal(message?.type, 'MALFORMED', line);
    }
  });
});
