/** Shared pieces of the fuzz tests: byte generators and a model of the protocol's line rules. */
import fc from 'fast-check';
import { splitFields } from '../../src/protocol/fields.js';

/**
 * The fast-check settings of the unit tests' properties (`fc.assert(property, PROPERTY_RUNS)`): a
 * fixed seed, so that a failure repeats, and 500 runs.
 */
export const PROPERTY_RUNS = { seed: 42, numRuns: 500 } as const;

/** Runs per property: `HERD_FUZZ_RUNS` (default `fallback`). */
export function fuzzRuns(fallback: number): number {
  const fromEnv = Number(process.env.HERD_FUZZ_RUNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}

/** Seed of every fuzz property: `HERD_FUZZ_SEED` (default 20261122), printed on failure by fast-check. */
export const FUZZ_SEED =
  Number.isInteger(Number(process.env.HERD_FUZZ_SEED)) && process.env.HERD_FUZZ_SEED !== undefined
    ? Number(process.env.HERD_FUZZ_SEED)
    : 20261122;

const fragments = [
  'IAMAT',
  'WHATSAT',
  'AT',
  'HELLO',
  'AUTH',
  'SYNC',
  'kiwi',
  'c1',
  'c2',
  '+34.068930-118.445127',
  '+90+180',
  '-90-180',
  '+91+0',
  '+1+1',
  '1621464827.959498503',
  '1700000000',
  '1700000000.1234567891',
  '10',
  '50',
  '51',
  '0',
  '1',
  '20',
  '21',
  '0.5',
  '-1',
  '1e3',
  '?',
  ' ',
  '  ',
  '\t',
  '\r',
  '\v',
  '\f',
  '\u00a0',
  'é',
  '\u{1F600}',
  '\u0000',
  '{',
  '"',
];

/** Lines that look like commands: mostly protocol words, numbers and separators, some junk. */
export const commandLike = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...fragments) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

const separator = fc.constantFrom(' ', '  ', '\t', ' \t ', '\v', '\f');
const clientId = fc.constantFrom('kiwi', 'c1', 'c2', 'é', 'x'.repeat(300));
const location = fc.oneof(
  fc.constantFrom('+34.068930-118.445127', '+90+180', '-90-180', '+91+0', '+1+1', '+1.5', '34-118'),
  fc
    .tuple(fc.double({ min: -95, max: 95, noNaN: true }), fc.double({ min: -185, max: 185, noNaN: true }))
    .map(([lat, lng]) => `${lat < 0 ? '' : '+'}${lat.toFixed(4)}${lng < 0 ? '' : '+'}${lng.toFixed(4)}`),
);
const posixTime = fc.oneof(
  fc.integer({ min: 1_699_999_990, max: 1_700_000_030 }).map(String),
  fc
    .tuple(fc.integer({ min: 1_699_999_990, max: 1_700_000_030 }), fc.integer({ min: 0, max: 999_999_999 }))
    .map(([s, ns]) => `${s}.${String(ns).padStart(9, '0')}`),
  fc.constantFrom('1800000000', '1e9', '1700000000.', '-1', '1700000000.1234567890'),
);

/** Well-formed (and nearly well-formed) IAMAT and WHATSAT lines with varied white space. */
export const commandShaped = fc.oneof(
  fc
    .tuple(
      fc.option(separator, { nil: '' }),
      clientId,
      location,
      posixTime,
      separator,
      separator,
      separator,
      fc.option(separator, { nil: '' }),
    )
    .map(([lead, id, loc, time, a, b, c, trail]) => `${lead}IAMAT${a}${id}${b}${loc}${c}${time}${trail}`),
  fc
    .tuple(
      clientId,
      fc.constantFrom('10', '0.5', '50', '0', '51', '.5'),
      fc.constantFrom('1', '5', '20', '0', '21'),
      separator,
    )
    .map(([id, radius, bound, sep]) => `WHATSAT${sep}${id}${sep}${radius}${sep}${bound}`),
);

/** A byte stream of lines (LF or CRLF, maybe a last line without terminator) and raw junk bytes. */
export const lineStream = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 4, arbitrary: commandShaped.map((text) => Buffer.from(text, 'utf8')) },
        { weight: 3, arbitrary: commandLike.map((text) => Buffer.from(text, 'utf8')) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)) },
      ),
      { maxLength: 12 },
    ),
    fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 12, maxLength: 12 }),
    fc.boolean(),
  )
  .map(([lines, terminators, lastTerminated]) => {
    const parts: Buffer[] = [];
    lines.forEach((line, i) => {
      // Junk may hold its own LF bytes: that is fine, the model splits the same way the server does.
      parts.push(line);
      if (i < lines.length - 1 || lastTerminated) parts.push(Buffer.from(terminators[i] ?? '\n'));
    });
    return Buffer.concat(parts);
  });

/**
 * Splits `data` at byte offsets (any values; reduced modulo length + 1, sorted, deduplicated, so a
 * chunk may be empty).
 */
export function splitAtOffsets(data: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((c) => (data.length === 0 ? 0 : c % (data.length + 1))))].sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let previous = 0;
  for (const point of points) {
    out.push(data.subarray(previous, point));
    previous = point;
  }
  out.push(data.subarray(previous));
  return out;
}

/** Cuts `bytes` at the given fractional positions in [0, 1): the same stream, split anywhere, no empty chunk. */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const offsets = cuts.map((cut) => Math.floor(cut * bytes.length)).filter((p) => p > 0 && p < bytes.length);
  return splitAtOffsets(bytes, offsets);
}

/**
 * The model: the lines a server must see in `bytes` (LF-terminated, CR before LF removed, last
 * unterminated line kept), as binary strings (one character per byte, src/protocol/bytes.ts).
 */
export function modelLines(bytes: Buffer): string[] {
  const text = bytes;
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === 0x0a) {
      let end = i;
      if (end > start && text[end - 1] === 0x0d) end--;
      lines.push(text.toString('latin1', start, end));
      start = i + 1;
    }
  }
  if (start < text.length) {
    let end = text.length;
    if (text[end - 1] === 0x0d) end--;
    lines.push(text.toString('latin1', start, end));
  }
  return lines;
}

/** The model: does this line deserve a reply? (Every line that is not only protocol white space.) */
export function needsReply(line: string): boolean {
  return splitFields(line).length > 0;
}
