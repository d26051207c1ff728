/**
 * Line framing (docs/protocol.md#framing): LF or CRLF terminators, chunks split at any byte (also
 * inside a UTF-8 sequence), a last line without terminator on end(), and the maxLineBytes limit.
 * Tested whole-chunk, byte-by-byte and with random splits; lines are read back as UTF-8 text.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter, type LineSplitterOptions } from '../../src/protocol/line-splitter.js';
import { splitAtOffsets } from '../helpers/fuzz.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

interface Outcome {
  lines: string[];
  overflows: string[];
}

/** Feeds `chunks` then calls end(); collects lines and overflow prefixes. */
function run(
  chunks: readonly Buffer[],
  options: Omit<LineSplitterOptions, 'onOverflow'> = {},
  callEnd = true,
): Outcome {
  const outcome: Outcome = { lines: [], overflows: [] };
  const splitter = new LineSplitter((bytes, start, end) => outcome.lines.push(bytes.toString('utf8', start, end)), {
    ...options,
    onOverflow: (bytes, start, end) => outcome.overflows.push(bytes.toString('utf8', start, end)),
  });
  for (const chunk of chunks) splitter.push(chunk);
  if (callEnd) splitter.end();
  return outcome;
}

function bytewise(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i++) out.push(data.subarray(i, i + 1));
  return out;
}

/**
 * Independent model of the framing: split the bytes at LF, drop one CR before each terminator (and at
 * the very end), and stop at the first line longer than the limit, which overflows with its first
 * maxLineBytes bytes.
 */
function model(data: Buffer, maxLineBytes: number): Outcome {
  const outcome: Outcome = { lines: [], overflows: [] };
  const text = data.toString('latin1'); // one char per byte, so indices are byte offsets
  const segments = text.split('\n');
  if (segments.at(-1) === '') segments.pop(); // input ending in LF has no unterminated last line
  for (const segment of segments) {
    const raw = Buffer.from(segment, 'latin1');
    const content = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    if (content.length > maxLineBytes) {
      outcome.overflows.push(raw.subarray(0, maxLineBytes).toString('utf8'));
      break;
    }
    outcome.lines.push(content.toString('utf8'));
  }
  return outcome;
}

describe('LineSplitter', () => {
  test('splits on LF and on CRLF, keeping empty lines', () => {
    const data = Buffer.from('IAMAT a +1+1 5\nWHATSAT a 10 5\r\n\n\r\nlast\n');
    assert.deepEqual(run([data]).lines, ['IAMAT a +1+1 5', 'WHATSAT a 10 5', '', '', 'last']);
  });

  test('a CR not before LF stays in the line', () => {
    assert.deepEqual(run([Buffer.from('a\rb\n\rc\n')]).lines, ['a\rb', '\rc']);
  });

  test('only one CR is part of the terminator', () => {
    assert.deepEqual(run([Buffer.from('a\r\r\n')]).lines, ['a\r']);
  });

  test('a CRLF split across chunks is still one terminator', () => {
    assert.deepEqual(run([Buffer.from('abc\r'), Buffer.from('\ndef\r'), Buffer.from('\n')]).lines, ['abc', 'def']);
  });

  test('lines are delivered as soon as they are terminated, before end()', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((bytes, start, end) => lines.push(bytes.toString('utf8', start, end)));
    splitter.push(Buffer.from('one\ntw'));
    assert.deepEqual(lines, ['one']);
    splitter.push(Buffer.from('o\nthr'));
    assert.deepEqual(lines, ['one', 'two']);
    splitter.end();
    assert.deepEqual(lines, ['one', 'two', 'thr']);
  });

  test('a last line without terminator is delivered on end(), without a trailing CR', () => {
    assert.deepEqual(run([Buffer.from('IAMAT a +1+1 5\nWHATSAT a 10 5')]).lines, ['IAMAT a +1+1 5', 'WHATSAT a 10 5']);
    assert.deepEqual(run([Buffer.from('WHATSAT a 10 5\r')]).lines, ['WHATSAT a 10 5']);
    assert.deepEqual(run([Buffer.from('WHATSAT a 10 5')], {}, false).lines, []);
  });

  test('end() adds nothing after a terminated line or on empty input', () => {
    assert.deepEqual(run([Buffer.from('a\n')]).lines, ['a']);
    assert.deepEqual(run([]).lines, []);
    assert.deepEqual(run([Buffer.alloc(0), Buffer.alloc(0)]).lines, []);
  });

  test('keeps a UTF-8 character split across chunks at every byte whole', () => {
    const data = Buffer.from('IAMAT café☕\u{1f600} +1+1 5\n');
    for (let cut = 0; cut <= data.length; cut++) {
      assert.deepEqual(
        run([data.subarray(0, cut), data.subarray(cut)]).lines,
        ['IAMAT café☕\u{1f600} +1+1 5'],
        `cut at ${cut}`,
      );
    }
    assert.deepEqual(run(bytewise(data)).lines, ['IAMAT café☕\u{1f600} +1+1 5']);
  });

  test('a line of exactly maxLineBytes is accepted, with or without CR', () => {
    assert.deepEqual(run([Buffer.from('abcde\nabcde\r\nabcde')], { maxLineBytes: 5 }), {
      lines: ['abcde', 'abcde', 'abcde'],
      overflows: [],
    });
    assert.deepEqual(run(bytewise(Buffer.from('abcde\r\nabcde\r')), { maxLineBytes: 5 }), {
      lines: ['abcde', 'abcde'],
      overflows: [],
    });
  });

  test('a line over maxLineBytes calls onOverflow once with its first maxLineBytes bytes', () => {
    assert.deepEqual(run([Buffer.from('ok\nabcdefgh\nlater\n')], { maxLineBytes: 5 }), {
      lines: ['ok'],
      overflows: ['abcde'],
    });
    assert.deepEqual(run(bytewise(Buffer.from('ok\nabcdefgh\nlater\n')), { maxLineBytes: 5 }), {
      lines: ['ok'],
      overflows: ['abcde'],
    });
    assert.deepEqual(run([Buffer.from('abcdef')], { maxLineBytes: 5 }), { lines: [], overflows: ['abcde'] });
    assert.deepEqual(run([Buffer.from('abcdef\r\n')], { maxLineBytes: 5 }), { lines: [], overflows: ['abcde'] });
  });

  test('an unterminated line over the limit overflows without waiting for end()', () => {
    const outcome = run([Buffer.from('x'.repeat(100))], { maxLineBytes: 10 }, false);
    assert.deepEqual(outcome, { lines: [], overflows: ['x'.repeat(10)] });
  });

  test('after an overflow all later input is ignored, end() included', () => {
    const outcome: Outcome = { lines: [], overflows: [] };
    const splitter = new LineSplitter((bytes, start, end) => outcome.lines.push(bytes.toString('utf8', start, end)), {
      maxLineBytes: 4,
      onOverflow: (bytes, start, end) => outcome.overflows.push(bytes.toString('utf8', start, end)),
    });
    assert.equal(splitter.hasOverflowed, false);
    splitter.push(Buffer.from('abcdefgh'));
    assert.equal(splitter.hasOverflowed, true);
    splitter.push(Buffer.from('\nIAMAT\nx\n'));
    splitter.push(Buffer.from('more'));
    splitter.end();
    assert.deepEqual(outcome, { lines: [], overflows: ['abcd'] });
  });

  test('the default limit is 4 KiB', () => {
    assert.equal(DEFAULT_MAX_LINE_BYTES, 4096);
    const exact = Buffer.from(`${'a'.repeat(DEFAULT_MAX_LINE_BYTES)}\n`);
    assert.deepEqual(run([exact]).lines, ['a'.repeat(DEFAULT_MAX_LINE_BYTES)]);
    const over = run([Buffer.from(`${'b'.repeat(DEFAULT_MAX_LINE_BYTES + 1)}\n`)]);
    assert.deepEqual(over.lines, []);
    assert.equal(over.overflows.length, 1);
    assert.equal(over.overflows[0]?.length, DEFAULT_MAX_LINE_BYTES);
  });

  test('a line that arrived whole is handed on as a range of its chunk, not a copy', () => {
    const chunk = Buffer.from('one\r\ntwo\n');
    const seen: [Buffer, number, number][] = [];
    new LineSplitter((bytes, start, end) => seen.push([bytes, start, end])).push(chunk);
    assert.deepEqual(
      seen.map(([bytes, start, end]) => [bytes === chunk, start, end]),
      [
        [true, 0, 3],
        [true, 5, 8],
      ],
    );
  });

  test('from a reused chunk (reused: true) the unterminated rest is copied, so overwriting the chunk changes no line', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((bytes, start, end) => lines.push(bytes.toString('latin1', start, end)));
    const buffer = Buffer.alloc(8);
    for (const piece of ['one\ntw', 'o-and-', 'more\nx\n']) {
      const n = buffer.write(piece, 'latin1');
      splitter.push(buffer.subarray(0, n), true);
      buffer.fill(0x23);
    }
    assert.deepEqual(lines, ['one', 'two-and-more', 'x']);
  });

  test('the overflow prefix is counted in bytes, not characters', () => {
    // 'é' is two bytes: six bytes of limit hold three of them.
    assert.deepEqual(run([Buffer.from('éééé\n')], { maxLineBytes: 6 }), { lines: [], overflows: ['ééé'] });
    assert.deepEqual(run([Buffer.from('ééé\n')], { maxLineBytes: 6 }), { lines: ['ééé'], overflows: [] });
  });

  // Bytes that matter to framing: LF, CR, ASCII, and the pieces of multi-byte UTF-8 characters.
  const frameBytes = fc
    .array(fc.constantFrom('\n', '\r', '\r\n', 'a', 'IAMAT ', ' ', '\t', 'é', '☕', '\u{1f600}', '\n\n'), {
      maxLength: 40,
    })
    .map((parts) => Buffer.from(parts.join('')));

  test('property: whole, byte-by-byte and randomly split input give the same lines (no limit reached)', () => {
    fc.assert(
      fc.property(frameBytes, fc.array(fc.nat(), { maxLength: 10 }), (data, cuts) => {
        const whole = run([data]);
        assert.deepEqual(whole, model(data, DEFAULT_MAX_LINE_BYTES));
        assert.deepEqual(run(bytewise(data)), whole);
        assert.deepEqual(run(splitAtOffsets(data, cuts)), whole);
      }),
      FC,
    );
  });

  test('property: with a small limit every chunking gives the same lines and the same single overflow', () => {
    fc.assert(
      fc.property(
        frameBytes,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1, max: 12 }),
        (data, cuts, maxLineBytes) => {
          const expected = model(data, maxLineBytes);
          assert.ok(expected.overflows.length <= 1);
          assert.deepEqual(run([data], { maxLineBytes }), expected);
          assert.deepEqual(run(bytewise(data), { maxLineBytes }), expected);
          assert.deepEqual(run(splitAtOffsets(data, cuts), { maxLineBytes }), expected);
        },
      ),
      FC,
    );
  });
});
