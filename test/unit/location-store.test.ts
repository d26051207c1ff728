/**
 * The merge rule (docs/protocol.md#floods): a location is stored only when its client time is newer;
 * equal times resolve the same way everywhere; a duplicate is not stored again, which ends a flood.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DIGEST_FROM_RECORDS_BELOW,
  LocationStore,
  compareTimeText,
  isNewerLine,
} from '../../src/store/location-store.js';
import { checkAtLine, type AtRecord, type ParsedAtRecord } from '../../src/protocol/at-record.js';
import { binaryOfText } from '../../src/protocol/bytes.js';
import { formatPosixTime, parsePosixTime } from '../../src/protocol/time.js';
import { ReferenceLocationStore, isNewer } from '../helpers/reference-store.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

function record(clientId: string, timeNs: bigint, server = 'Alford', difference = '+0.000000001'): ParsedAtRecord {
  // The AT line determines the record, as on the wire: its last field is the client's time.
  const latitude = Number(timeNs % 90n);
  const longitude = -Number(timeNs % 180n);
  const time = formatPosixTime(timeNs);
  return {
    clientId,
    serverName: server,
    timeNs,
    atLine: `AT ${server} ${difference} ${clientId} +${latitude}-${-longitude} ${time}`,
    latitude,
    longitude,
  };
}

/** Independent winner per client: the greatest (time, AT line) pair. */
function expectedWinners(records: readonly ParsedAtRecord[]): Map<string, ParsedAtRecord> {
  const best = new Map<string, ParsedAtRecord>();
  for (const r of records) {
    const held = best.get(r.clientId);
    if (held === undefined || r.timeNs > held.timeNs || (r.timeNs === held.timeNs && r.atLine > held.atLine))
      best.set(r.clientId, r);
  }
  return best;
}

function snapshot(store: LocationStore): Map<string, ParsedAtRecord> {
  return new Map([...store.values()].map((r) => [r.clientId, r] as const));
}

describe('isNewer', () => {
  test('anything is newer than nothing', () => {
    assert.equal(isNewer(record('c', 0n), undefined), true);
  });

  test('a later client time is newer and an earlier one is not, whatever the AT lines', () => {
    assert.equal(isNewer(record('c', 2n, 'A'), record('c', 1n, 'Z')), true);
    assert.equal(isNewer(record('c', 1n, 'Z'), record('c', 2n, 'A')), false);
    // 1 ns apart on 19-digit times: compared as bigint, not as doubles.
    assert.equal(isNewer(record('c', 1_621_464_827_959_498_504n), record('c', 1_621_464_827_959_498_503n)), true);
    assert.equal(isNewer(record('c', 1_621_464_827_959_498_503n), record('c', 1_621_464_827_959_498_504n)), false);
  });

  test('equal times: exactly one of two different AT lines wins, the same one either way round', () => {
    const a = record('c', 5n, 'Alford', '+0.100000000');
    const b = record('c', 5n, 'Ball', '+0.050000000');
    assert.notEqual(isNewer(a, b), isNewer(b, a));
    assert.equal(isNewer(b, a), true); // "AT Ball" sorts after "AT Alford"
  });

  test('an identical record is not newer', () => {
    const a = record('c', 5n);
    assert.equal(isNewer(a, a), false);
    assert.equal(isNewer({ ...a }, a), false);
  });
});

describe('LocationStore', () => {
  test('offer stores the first record and reports it stored', () => {
    const store = new LocationStore();
    const a = record('kiwi', 10n);
    assert.equal(store.offer(a), true);
    assert.deepEqual(store.get('kiwi'), a);
    assert.equal(store.size, 1);
    assert.equal(store.get('other'), undefined);
  });

  test('the stored location only ever moves to a newer client time', () => {
    const store = new LocationStore();
    const newer = record('kiwi', 20n);
    const older = record('kiwi', 10n);
    assert.equal(store.offer(newer), true);
    assert.equal(store.offer(older), false);
    assert.deepEqual(store.get('kiwi'), newer);
    const newest = record('kiwi', 30n);
    assert.equal(store.offer(newest), true);
    assert.deepEqual(store.get('kiwi'), newest);
  });

  test('a duplicate is not stored again (the flood ends)', () => {
    const store = new LocationStore();
    const a = record('kiwi', 10n);
    assert.equal(store.offer(a), true);
    assert.equal(store.offer(a), false);
    assert.equal(store.offer({ ...a }), false);
    assert.equal(store.size, 1);
  });

  test('a client missed by a look-up is new only while the table has not changed since', () => {
    const store = new LocationStore();
    assert.equal(store.atLineOf('kiwi'), undefined);
    assert.equal(store.offer(record('kiwi', 10n)), true);
    assert.equal(store.offer(record('kiwi', 9n)), false, 'held now: an older line is stale');
    assert.equal(store.atLineOf('lime'), undefined);
    assert.equal(store.offer(record('kiwi', 11n)), true);
    assert.equal(store.offer(record('lime', 5n)), true);
    assert.equal(store.offer(record('lime', 4n)), false);
    assert.equal(store.size, 2);
  });

  test('clients are independent', () => {
    const store = new LocationStore();
    assert.equal(store.offer(record('a', 10n)), true);
    assert.equal(store.offer(record('b', 5n)), true);
    assert.equal(store.size, 2);
    assert.deepEqual(
      [...store.values()].map((r) => r.clientId),
      ['a', 'b'],
    );
  });

  test('records from the codec are keyed by their own client id: exact bytes, found by an equal id, kept in place on update', () => {
    // The store keys a record by AtRecord.clientId as it comes (a slice of the record's line).
    const line = (id: string, time: string): AtRecord => {
      const parsed = checkAtLine(`AT Alford +0.000000001 ${id} +10.000000+010.000000 ${time}`);
      assert.ok(parsed !== undefined);
      return parsed;
    };
    const store = new LocationStore();
    const long = binaryOfText('a-client-id-longer-than-thirteen-bytes-é');
    assert.equal(store.offer(line(long, '1700000000.1')), true);
    assert.equal(store.offer(line('\xc3\xa9', '1700000000.1')), true);
    assert.equal(store.offer(line(binaryOfText('é'), '1700000000.2')), true);
    assert.equal(store.size, 2, 'the same bytes: one client');
    assert.equal(store.offer(line(long, '1700000000.3')), true);
    assert.equal(store.atLineOf(`${long}`)?.endsWith(' 1700000000.3'), true);
    assert.equal(store.atLineOf('\xc3\xa9')?.endsWith(' 1700000000.2'), true);
    assert.deepEqual(
      [...store.values()].map((r) => r.clientId),
      [long, '\xc3\xa9'],
      'in the order first stored: an update keeps its place',
    );
  });

  const records = fc
    .array(
      fc.record({
        clientId: fc.constantFrom('kiwi', 'lemon', 'lime'),
        timeNs: fc.bigInt({ min: 1_621_464_827_000_000_000n, max: 1_621_464_827_000_000_003n }),
        server: fc.constantFrom('Alford', 'Ball', 'Hamilton', 'Holiday', 'Welsh'),
        difference: fc.constantFrom('+0.000000001', '-0.500000000', '+1.000000000'),
      }),
      { minLength: 1, maxLength: 12 },
    )
    .map((specs) => specs.map((s) => record(s.clientId, s.timeNs, s.server, s.difference)));

  test('property: any permutation with duplicates of a set of records ends in the same store', () => {
    fc.assert(
      fc.property(
        records.chain((rs) =>
          fc.tuple(
            fc.constant(rs),
            fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }),
            fc.array(fc.nat({ max: rs.length - 1 }), { maxLength: 12 }),
            fc.array(fc.nat({ max: 24 }), { maxLength: 12 }),
          ),
        ),
        ([original, shuffled, duplicateIndexes, positions]) => {
          // Insert copies of some records at arbitrary places in the shuffled order.
          const order = [...shuffled];
          duplicateIndexes.forEach((index, k) => {
            const copy = { ...(original[index] as ParsedAtRecord) };
            order.splice((positions[k] ?? 0) % (order.length + 1), 0, copy);
          });
          const a = new LocationStore();
          for (const r of original) a.offer(r);
          const b = new LocationStore();
          for (const r of order) b.offer(r);
          const expected = expectedWinners(original);
          assert.deepEqual(snapshot(a), expected);
          assert.deepEqual(snapshot(b), expected);
        },
      ),
      FC,
    );
  });

  test('property: offer returns true exactly when the record beats what was held', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const store = new LocationStore();
        for (const r of rs) {
          const before = store.get(r.clientId);
          const stored = store.offer(r);
          assert.equal(stored, isNewer(r, before));
          assert.deepEqual(store.get(r.clientId), stored ? r : before);
        }
        // Re-offering every held record changes nothing: a flood of what is stored ends.
        for (const r of [...store.values()]) assert.equal(store.offer({ ...r }), false);
      }),
      FC,
    );
  });
});

describe('time text comparison', () => {
  const timeText = fc
    .tuple(
      fc.string({ unit: fc.constantFrom('0', '1', '9'), minLength: 1, maxLength: 12 }),
      fc.option(fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), minLength: 1, maxLength: 9 })),
    )
    .map(([seconds, fraction]) => (fraction === null ? seconds : `${seconds}.${fraction}`));

  test('orders as the integer nanoseconds do: leading zeros and trailing fraction zeros do not count', () => {
    assert.equal(compareTimeText('1700000000', 0, '1700000000.000', 0), 0);
    assert.equal(compareTimeText('01700000000.5', 0, '1700000000.500000000', 0), 0);
    assert.ok(compareTimeText('1700000000.000000001', 0, '1700000000', 0) > 0);
    assert.ok(compareTimeText('999999999', 0, '1000000000', 0) < 0);
    assert.ok(compareTimeText('x 0.9', 2, 'y 1', 2) < 0, 'from an index');
    assert.equal(compareTimeText('0', 0, '0000.0', 0), 0);
  });

  test('property: the sign matches the comparison of parsePosixTime', () => {
    fc.assert(
      fc.property(timeText, timeText, (a, b) => {
        const na = parsePosixTime(a) as bigint;
        const nb = parsePosixTime(b) as bigint;
        assert.equal(Math.sign(compareTimeText(a, 0, b, 0)), na === nb ? 0 : na > nb ? 1 : -1, `${a} vs ${b}`);
      }),
      { seed: 42, numRuns: 3000 },
    );
  });

  test('isNewerLine agrees with isNewer on parsed records', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 3n }),
        fc.bigInt({ min: 0n, max: 3n }),
        fc.constantFrom('Alford', 'Ball'),
        fc.constantFrom('Alford', 'Ball'),
        (ta, tb, sa, sb) => {
          const a = record('c', 1_700_000_000_000_000_000n + ta, sa);
          const b = record('c', 1_700_000_000_000_000_000n + tb, sb);
          assert.equal(isNewerLine(a.atLine, b.atLine), isNewer(a, b));
        },
      ),
      FC,
    );
  });
});

describe('LocationStore against the reference store', () => {
  // Updates as they arrive: client ids (some of them slices of others, some 13+ characters, so the
  // store's own keys are slices of its lines), times in every written form, servers for tie breaks.
  const update = fc
    .record({
      clientId: fc.constantFrom('kiwi', 'kiwi.cs.ucla.edu', 'kiwi.cs.ucla.edu.long', 'é中', 'a'),
      seconds: fc.constantFrom('1700000000', '01700000000', '1700000001', '0'),
      fraction: fc.constantFrom('', '.5', '.500000000', '.000000001', '.1'),
      server: fc.constantFrom('Alford', 'Ball', 'Hamilton'),
      difference: fc.constantFrom('+0.000000001', '-0.500000000'),
      latitude: fc.integer({ min: -90, max: 90 }),
    })
    .map((u) => {
      const sign = u.latitude < 0 ? '-' : '+';
      const atLine = `AT ${u.server} ${u.difference} ${u.clientId} ${sign}${Math.abs(u.latitude)}+1 ${u.seconds}${u.fraction}`;
      // As a server holds them: binary strings of the UTF-8 bytes.
      return { clientId: binaryOfText(u.clientId), atLine: binaryOfText(atLine) };
    });

  test('the digest summed from the records (a small table) and folded from the finest sums (a larger one) are the reference digest', () => {
    const store = new LocationStore();
    const reference = new ReferenceLocationStore();
    // Up to one past the bound, each client updated once, so both sides of it hold replaced records too.
    for (const size of [1, DIGEST_FROM_RECORDS_BELOW - 1, DIGEST_FROM_RECORDS_BELOW, DIGEST_FROM_RECORDS_BELOW + 1]) {
      for (let i = reference.size; i < size; i++) {
        for (const time of [1700000000n, 1700000001n] as const) {
          const r = record(`client-${i}`, time * 1_000_000_000n);
          assert.equal(store.offer(r), reference.offer(r));
        }
      }
      assert.equal(store.size, size);
      for (const buckets of [1, 64, 65536])
        assert.deepEqual(store.digest(buckets), reference.digest(buckets), `${size}`);
    }
  });

  test('property: look-ups before offers (as a link makes them) change no answer', () => {
    // A link looks a flood's client up first; the store remembers a miss until the table changes.
    const lookId = fc.constantFrom(...['kiwi', 'kiwi.cs.ucla.edu', 'é中', 'a', 'none'].map(binaryOfText));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.option(lookId), update), { minLength: 1, maxLength: 40 }), (steps) => {
        const store = new LocationStore();
        const reference = new ReferenceLocationStore();
        for (const [looked, u] of steps) {
          if (looked !== null)
            assert.equal(store.atLineOf(looked), [...reference.values()].find((r) => r.clientId === looked)?.atLine);
          assert.equal(store.offer(u), reference.offer(u), u.atLine);
        }
        for (const held of reference.values()) assert.equal(store.atLineOf(held.clientId), held.atLine);
        assert.equal(store.size, reference.size);
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  test('property: the same answers to every offer, the same contents, the same digests', () => {
    fc.assert(
      fc.property(fc.array(update, { minLength: 1, maxLength: 40 }), (updates) => {
        const store = new LocationStore();
        const reference = new ReferenceLocationStore();
        for (const u of updates) assert.equal(store.offer(u), reference.offer(u), u.atLine);
        assert.equal(store.size, reference.size);
        for (const held of reference.values()) {
          assert.equal(store.atLineOf(held.clientId), held.atLine);
          assert.deepEqual(store.get(held.clientId), held);
        }
        for (const buckets of [1, 2, 64, 65536]) assert.deepEqual(store.digest(buckets), reference.digest(buckets));
        assert.deepEqual(
          [...store.atLinesInBuckets(2, new Set([0]))].sort(),
          [...reference.values()]
            .filter((r) => reference.bucketOf(r.clientId, 2) === 0)
            .map((r) => r.atLine)
            .sort(),
        );
      }),
      { seed: 7, numRuns: 2000 },
    );
  });
});
