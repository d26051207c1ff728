/**
 * The merge rule (docs/protocol.md "Floods"): a location is stored only when its client time is newer;
 * equal times resolve the same way everywhere; a duplicate is not stored again, which ends a flood.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LocationStore, isNewer, type LocationRecord } from '../../src/store/location-store.js';

const FC = { seed: 42, numRuns: 500 } as const;

function record(clientId: string, timeNs: bigint, server = 'Alford', difference = '+0.000000001'): LocationRecord {
  // The AT line determines the record, as on the wire.
  const latitude = Number(timeNs % 90n);
  const longitude = -Number(timeNs % 180n);
  return {
    clientId,
    timeNs,
    atLine: `AT ${server} ${difference} ${clientId} +${latitude}-${-longitude} ${timeNs}`,
    latitude,
    longitude,
  };
}

/** Independent winner per client: the greatest (time, AT line) pair. */
function expectedWinners(records: readonly LocationRecord[]): Map<string, LocationRecord> {
  const best = new Map<string, LocationRecord>();
  for (const r of records) {
    const held = best.get(r.clientId);
    if (held === undefined || r.timeNs > held.timeNs || (r.timeNs === held.timeNs && r.atLine > held.atLine))
      best.set(r.clientId, r);
  }
  return best;
}

function snapshot(store: LocationStore): Map<string, LocationRecord> {
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
    assert.equal(store.get('kiwi'), a);
    assert.equal(store.size, 1);
    assert.equal(store.get('other'), undefined);
  });

  test('the stored location only ever moves to a newer client time', () => {
    const store = new LocationStore();
    const newer = record('kiwi', 20n);
    const older = record('kiwi', 10n);
    assert.equal(store.offer(newer), true);
    assert.equal(store.offer(older), false);
    assert.equal(store.get('kiwi'), newer);
    const newest = record('kiwi', 30n);
    assert.equal(store.offer(newest), true);
    assert.equal(store.get('kiwi'), newest);
  });

  test('a duplicate is not stored again (the flood ends)', () => {
    const store = new LocationStore();
    const a = record('kiwi', 10n);
    assert.equal(store.offer(a), true);
    assert.equal(store.offer(a), false);
    assert.equal(store.offer({ ...a }), false);
    assert.equal(store.size, 1);
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
            const copy = { ...(original[index] as LocationRecord) };
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
          assert.equal(store.get(r.clientId), stored ? r : before);
        }
        // Re-offering every held record changes nothing: a flood of what is stored ends.
        for (const r of [...store.values()]) assert.equal(store.offer({ ...r }), false);
      }),
      FC,
    );
  });
});
