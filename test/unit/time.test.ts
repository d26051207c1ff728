/**
 * POSIX times and time differences (docs/protocol.md "IAMAT"): exact integer nanoseconds, a sign
 * on every difference, exactly nine fractional digits.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_TIME_DIFFERENCE_BYTES,
  NANOS_PER_SECOND,
  SystemWallClock,
  differenceNs,
  formatPosixTime,
  formatTimeDifference,
  instantOfNs,
  isPosixTime,
  nsOfInstant,
  parsePosixTime,
  readPosixTime,
  writeTimeDifference,
} from '../../src/protocol/time.js';
import { assertRefusesAll } from '../helpers/protocol-text.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

/** Independent reference: decimal seconds text to nanoseconds, by powers of ten. */
function referenceNs(seconds: bigint, fraction: string): bigint {
  const fractionNs = fraction === '' ? 0n : BigInt(fraction) * 10n ** BigInt(9 - fraction.length);
  return seconds * 1_000_000_000n + fractionNs;
}

/** Independent reference: nanoseconds to `±S.FFFFFFFFF` by slicing the decimal digits. */
function referenceDifference(ns: bigint): string {
  const sign = ns < 0n ? '-' : '+';
  const digits = (ns < 0n ? -ns : ns).toString().padStart(10, '0');
  const whole = digits.slice(0, -9).replace(/^0+(?=\d)/, '');
  return `${sign}${whole}.${digits.slice(-9)}`;
}

const fractionDigits = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), minLength: 0, maxLength });

describe('parsePosixTime', () => {
  test('parses the protocol example exactly, beyond double precision', () => {
    assert.equal(parsePosixTime('1621464827.959498503'), 1_621_464_827_959_498_503n);
  });

  test('accepts 0 to 9 fractional digits and scales each to nanoseconds', () => {
    assert.equal(parsePosixTime('1621464827'), 1_621_464_827_000_000_000n);
    assert.equal(parsePosixTime('1621464827.9'), 1_621_464_827_900_000_000n);
    assert.equal(parsePosixTime('1621464827.95'), 1_621_464_827_950_000_000n);
    assert.equal(parsePosixTime('1.000000001'), 1_000_000_001n);
    assert.equal(parsePosixTime('0.5'), 500_000_000n);
    assert.equal(parsePosixTime('0'), 0n);
    assert.equal(parsePosixTime('0.000000000'), 0n);
    for (let digits = 1; digits <= 9; digits++) {
      assert.equal(
        parsePosixTime(`7.${'1'.repeat(digits)}`),
        7_000_000_000n + BigInt('1'.repeat(digits)) * 10n ** BigInt(9 - digits),
        `${digits} digits`,
      );
    }
  });

  test('rejects 10 or more fractional digits', () => {
    assert.equal(parsePosixTime('1621464827.9594985031'), undefined);
    assert.equal(parsePosixTime('0.0000000000'), undefined);
    assert.equal(parsePosixTime('1.12345678901234567890'), undefined);
  });

  test('keeps huge second counts exact', () => {
    assert.equal(parsePosixTime('99999999999999999999.999999999'), 99_999_999_999_999_999_999_999_999_999n);
  });

  test('rejects text that is not digits with an optional fraction', () => {
    assertRefusesAll(parsePosixTime, [
      '',
      '.5',
      '-1',
      '+1',
      '-1.5',
      '1e9',
      '1E9',
      ' 1',
      '1 ',
      '1\n',
      '\t1',
      '1.2.3',
      '1,5',
      '0x10',
      'Infinity',
      'NaN',
      'abc',
      '１２',
      '١٢٣',
      '1.５',
    ]);
  });

  test('property: any seconds and 0-9 fraction digits parse to the decimal value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fractionDigits(9), (seconds, fraction) => {
        const text = fraction === '' ? seconds.toString() : `${seconds}.${fraction}`;
        assert.equal(parsePosixTime(text), referenceNs(seconds, fraction));
      }),
      FC,
    );
  });

  test('property: 10 to 30 fraction digits are always rejected', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fractionDigits(30).filter((f) => f.length >= 10),
        (seconds, fraction) => {
          assert.equal(parsePosixTime(`${seconds}.${fraction}`), undefined);
        },
      ),
      FC,
    );
  });
});

describe('formatPosixTime', () => {
  test('whole seconds, a point and exactly nine fractional digits', () => {
    assert.equal(formatPosixTime(1621464827959498503n), '1621464827.959498503');
    assert.equal(formatPosixTime(1621464827000000001n), '1621464827.000000001');
    assert.equal(formatPosixTime(0n), '0.000000000');
  });

  test('parsePosixTime reads back every time it formats', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), (ns) => {
        assert.equal(parsePosixTime(formatPosixTime(ns)), ns);
      }),
      FC,
    );
  });
});

describe('formatTimeDifference', () => {
  test('formats the protocol example: server receive time minus client time', () => {
    const client = parsePosixTime('1621464827.959498503');
    assert.ok(client !== undefined);
    const serverReceive = 1_621_464_828_223_371_889n;
    assert.equal(formatTimeDifference(serverReceive - client), '+0.263873386');
  });

  test('zero and positive differences get +, negative ones (client ahead) get -', () => {
    assert.equal(formatTimeDifference(0n), '+0.000000000');
    assert.equal(formatTimeDifference(1n), '+0.000000001');
    assert.equal(formatTimeDifference(-1n), '-0.000000001');
    assert.equal(formatTimeDifference(-3_000_000_001n), '-3.000000001');
    assert.equal(formatTimeDifference(NANOS_PER_SECOND), '+1.000000000');
    assert.equal(formatTimeDifference(806_008_632_277_000n), '+806008.632277000');
    assert.equal(formatTimeDifference(-123_456_789_012_345_678_901n), '-123456789012.345678901');
  });

  test('a 1 ns difference between two 19-digit times is not lost to rounding', () => {
    const client = parsePosixTime('1621464827.959498503');
    const server = parsePosixTime('1621464827.959498504');
    assert.ok(client !== undefined && server !== undefined);
    assert.equal(formatTimeDifference(server - client), '+0.000000001');
    assert.equal(formatTimeDifference(client - server), '-0.000000001');
  });

  test('property: sign, exactly nine fractional digits, and the decimal value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 21n), max: 10n ** 21n }), (ns) => {
        const text = formatTimeDifference(ns);
        assert.match(text, /^[+-](0|[1-9]\d*)\.\d{9}$/);
        assert.equal(text.startsWith('-'), ns < 0n);
        assert.equal(text, referenceDifference(ns));
      }),
      FC,
    );
  });

  test('property: the magnitude parses back through parsePosixTime', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (ns) => {
        const text = formatTimeDifference(ns);
        assert.equal(parsePosixTime(text.slice(1)), ns < 0n ? -ns : ns);
      }),
      FC,
    );
  });

  test('property: difference of two parsed client times equals the decimal subtraction', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 11n }),
        fractionDigits(9),
        fc.bigInt({ min: 0n, max: 10n ** 11n }),
        fractionDigits(9),
        (s1, f1, s2, f2) => {
          const server = parsePosixTime(f1 === '' ? `${s1}` : `${s1}.${f1}`);
          const client = parsePosixTime(f2 === '' ? `${s2}` : `${s2}.${f2}`);
          assert.ok(server !== undefined && client !== undefined);
          assert.equal(
            formatTimeDifference(server - client),
            referenceDifference(referenceNs(s1, f1) - referenceNs(s2, f2)),
          );
        },
      ),
      FC,
    );
  });
});

describe('writeTimeDifference (numbers) against formatTimeDifference (bigint)', () => {
  test('property: the same text for every pair of instants, either side of the epoch second', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 19n }),
        fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }),
        (earlierNs, differenceNs) => {
          const later = instantOfNs(earlierNs + differenceNs);
          const earlier = instantOfNs(earlierNs);
          const out = Buffer.alloc(MAX_TIME_DIFFERENCE_BYTES);
          const end = writeTimeDifference(out, 0, later, earlier);
          assert.equal(out.toString('latin1', 0, end), formatTimeDifference(differenceNs));
        },
      ),
      FC,
    );
  });

  test('readPosixTime reads what parsePosixTime reads, and refuses seconds beyond a safe integer', () => {
    for (const text of [
      '0',
      '1621464827',
      '1621464827.5',
      '1621464827.959498503',
      '0001.000000001',
      '9007199254740991',
    ]) {
      const bytes = Buffer.from(text);
      const instant = { seconds: 0, nanoseconds: 0 };
      assert.equal(isPosixTime(bytes, 0, bytes.length), true, text);
      assert.equal(readPosixTime(bytes, 0, bytes.length, instant), true, text);
      assert.equal(nsOfInstant(instant), parsePosixTime(text), text);
    }
    const huge = Buffer.from('9007199254740993');
    assert.equal(readPosixTime(huge, 0, huge.length, { seconds: 0, nanoseconds: 0 }), false);
  });

  test('differenceNs is exact below 2^53 ns', () => {
    const a = instantOfNs(1_700_000_000_123_456_789n);
    const b = instantOfNs(1_699_999_000_000_000_001n);
    assert.equal(differenceNs(a, b), 1_000_123_456_788);
    assert.equal(differenceNs(b, a), -1_000_123_456_788);
  });
});

describe('SystemWallClock', () => {
  const nowNs = (clock: SystemWallClock): bigint => nsOfInstant(clock.now());

  test('reads within a few milliseconds of Date.now()', () => {
    const clock = new SystemWallClock();
    const skewNs = BigInt(SystemWallClock.MAX_SKEW_MS) * 1_000_000n;
    for (let i = 0; i < 100; i++) {
      const before = BigInt(Date.now()) * 1_000_000n;
      const now = nowNs(clock);
      const after = BigInt(Date.now() + 1) * 1_000_000n;
      assert.ok(now >= before - skewNs, `${now} < ${before}`);
      assert.ok(now <= after + skewNs, `${now} > ${after}`);
    }
  });

  test('has sub-millisecond resolution (not just Date.now() scaled)', () => {
    const clock = new SystemWallClock();
    const reads = Array.from({ length: 100 }, () => nowNs(clock));
    assert.ok(
      reads.some((ns) => ns % 1_000_000n !== 0n),
      'every read was a whole millisecond',
    );
  });

  test('follows the system clock when it is stepped forward or back', (t) => {
    let wallMs = 1_700_000_000_000;
    t.mock.method(Date, 'now', () => wallMs);
    const clock = new SystemWallClock();
    const skewNs = BigInt(SystemWallClock.MAX_SKEW_MS) * 1_000_000n;
    const first = nowNs(clock);
    assert.ok(first >= 1_700_000_000_000_000_000n && first < 1_700_000_000_000_000_000n + skewNs);

    wallMs += 3_600_000; // NTP steps the clock an hour ahead
    assert.equal(nowNs(clock), 1_700_003_600_000_000_000n);

    wallMs -= 7_200_000; // and then two hours back
    assert.equal(nowNs(clock), 1_699_996_400_000_000_000n);
  });
});
