/**
 * Replies to client commands (docs/protocol.md "Client commands"): the `?` reply, the WHATSAT reply
 * layout, and client ids as bytes end to end.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseClientCommand,
  formatInvalidReply,
  formatWhatsatBody,
  formatWhatsatReply,
  normalizeJsonNewlines,
  type ClientCommand,
} from '../../src/protocol/commands.js';
import { parseText } from '../helpers/protocol-text.js';
import { binaryOfText } from '../../src/protocol/bytes.js';
import { FieldOffsets } from '../../src/protocol/fields.js';
import { formatGoogleJson } from '../../src/protocol/google-json.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

describe('formatInvalidReply', () => {
  test('is "? " and the line exactly as received, then one newline', () => {
    assert.equal(formatInvalidReply('FOO bar'), '? FOO bar\n');
    assert.equal(formatInvalidReply('  IAMAT\tkiwi  +91+0 5  '), '?   IAMAT\tkiwi  +91+0 5  \n');
    assert.equal(formatInvalidReply('WHATSAT kiwi 0 5\r'), '? WHATSAT kiwi 0 5\r\n');
  });

  test('property: the reply is the raw line verbatim between "? " and one LF', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }).map((s) => s.replaceAll('\n', '')),
        (raw) => {
          const reply = formatInvalidReply(raw);
          assert.ok(reply.startsWith('? '));
          assert.ok(reply.endsWith('\n') && !reply.slice(0, -1).includes('\n'));
          assert.equal(reply.slice(2, -1), raw);
        },
      ),
      FC,
    );
  });
});

describe('formatWhatsatReply', () => {
  const atLine = 'AT Alford +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503';
  /** The whole reply for `json`, as text. */
  const whatsatText = (line: string, json: string): string => {
    const reply = formatWhatsatReply(line, formatWhatsatBody(json));
    return reply.head + reply.body.toString('utf8');
  };

  test('keeps the body as it is: the same bytes, not a copy', () => {
    const body = formatWhatsatBody('{"status":"OK"}');
    const reply = formatWhatsatReply(atLine, body);
    assert.equal(reply.head, `${atLine}\n`);
    assert.equal(reply.body, body);
    assert.equal(body.toString('utf8'), '{"status":"OK"}\n\n');
  });

  test('the body is UTF-8', () => {
    assert.deepEqual([...formatWhatsatBody('"é"')], [0x22, 0xc3, 0xa9, 0x22, 0x0a, 0x0a]);
  });

  test('is the AT line, a newline, the JSON, then two newlines', () => {
    assert.equal(whatsatText(atLine, '{\n   "status" : "OK"\n}'), `${atLine}\n{\n   "status" : "OK"\n}\n\n`);
  });

  test('collapses runs of newlines inside the JSON and drops trailing ones', () => {
    const json = '{\n\n   "html_attributions" : [],\n\n\n   "results" : [],\n   "status" : "ZERO_RESULTS"\n}\n\n\n';
    assert.equal(
      whatsatText(atLine, normalizeJsonNewlines(json)),
      `${atLine}\n{\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "ZERO_RESULTS"\n}\n\n`,
    );
  });

  test('a formatGoogleJson document parses back from the reply', () => {
    const doc = { html_attributions: [], results: [{ name: 'Westwood', place_id: 'geonames:1' }], status: 'OK' };
    const reply = whatsatText(atLine, normalizeJsonNewlines(formatGoogleJson(doc)));
    assert.ok(reply.startsWith(`${atLine}\n{\n`));
    assert.deepEqual(JSON.parse(reply.slice(atLine.length + 1)), doc);
  });

  test('property: the reply ends in exactly one empty line and has no other empty line', () => {
    const text = fc.string({
      unit: fc.constantFrom('{', '}', 'a', ' ', '"', '\n', '\n', '\n'),
      minLength: 0,
      maxLength: 40,
    });
    fc.assert(
      fc.property(fc.constantFrom('{', '[', 'x'), text, (first, rest) => {
        const json = first + rest;
        const reply = whatsatText(atLine, normalizeJsonNewlines(json));
        assert.ok(reply.startsWith(`${atLine}\n${first}`));
        assert.ok(reply.endsWith('\n\n'), JSON.stringify(reply));
        const lines = reply.split('\n');
        // "...\n\n" splits into [..., lastLine, '', '']: the last line of content, one empty line, end.
        assert.equal(lines.at(-1), '');
        assert.equal(lines.at(-2), '');
        assert.ok(
          lines.slice(0, -2).every((line) => line !== ''),
          JSON.stringify(reply),
        );
        // Only newlines were removed.
        assert.equal(reply.replaceAll('\n', ''), atLine + json.replaceAll('\n', ''));
      }),
      FC,
    );
  });
});

describe('client ids are bytes (docs/protocol.md#iamat)', () => {
  /** Parses raw bytes, given one character per byte. */
  function parseBytes(binary: string): ClientCommand | undefined {
    const bytes = Buffer.from(binary, 'latin1');
    return parseClientCommand(bytes, 0, bytes.length, new FieldOffsets(4));
  }

  test('an id that is not UTF-8 is refused, whatever the command, and says why', () => {
    for (const line of ['IAMAT \xfe +10.000000+010.000000 1621464827', 'WHATSAT \xff 50 1', 'IAMAT a\xc3 +1+1 5']) {
      const command = parseBytes(line);
      assert.equal(command?.kind, 'INVALID', JSON.stringify(line));
      assert.equal(command.reason, 'client id is not UTF-8');
    }
  });

  test('a UTF-8 id is kept as its bytes: a binary string of them, never decoded', () => {
    const command = parseBytes('WHATSAT caf\xc3\xa9 10 5');
    assert.equal(command?.kind, 'WHATSAT');
    assert.equal(command.clientId, 'caf\xc3\xa9');
    assert.equal(command.clientId, binaryOfText('café'));
  });

  test('two ids are one client only when their bytes are equal (é composed or not)', () => {
    const composed = parseText('WHATSAT \u00e9 10 5');
    const decomposed = parseText('WHATSAT e\u0301 10 5');
    assert.ok(composed?.kind === 'WHATSAT' && decomposed?.kind === 'WHATSAT');
    assert.notEqual(composed.clientId, decomposed.clientId);
  });

  test('only the six ASCII white-space bytes separate fields: U+0085 and U+00A0 are part of an id', () => {
    for (const id of ['a\u0085b', 'a\u00a0b']) {
      const command = parseText(`WHATSAT ${id} 10 5`);
      assert.ok(command?.kind === 'WHATSAT', id);
      assert.equal(command.clientId, binaryOfText(id));
    }
  });
});
