/**
 * The location store's table (src/store/client-table.ts): every id added is found again with its
 * line, across the slots' doubling, their wrap-around and the entries' chunks; a doubling moves a few
 * slots per add, and every id is found while it is under way; ids of equal hash stay apart; an absent
 * id's look-up names the slot it is added at; iteration is in the order first stored, and live.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CLIENT_TABLE_CHUNK,
  CLIENT_TABLE_MAX_LOAD,
  CLIENT_TABLE_MOVES_PER_ADD,
  ClientTable,
} from '../../src/store/client-table.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

/** Adds `clientId` with `atLine` if it is absent, else replaces its line; returns whether it was new. */
function put(table: ClientTable, clientId: string, atLine: string, hash = table.hashOf(clientId)): boolean {
  const found = table.find(clientId, hash);
  if (found >= 0) {
    table.replace(found, clientId, atLine);
    return false;
  }
  table.add(found, hash, clientId, atLine);
  return true;
}

function lineOf(table: ClientTable, clientId: string): string | undefined {
  const found = table.find(clientId, table.hashOf(clientId));
  return found < 0 ? undefined : table.lineAt(found);
}

describe('ClientTable', () => {
  test('finds every id added, through many doublings of its slots and past two chunks of entries', () => {
    const table = new ClientTable({ firstSlots: 2 });
    const count = CLIENT_TABLE_CHUNK * 2 + 5;
    for (let i = 0; i < count; i++) assert.equal(put(table, `client-${i}`, `line ${i}`), true);
    assert.equal(table.size, count);
    for (let i = 0; i < count; i++) assert.equal(lineOf(table, `client-${i}`), `line ${i}`);
    assert.equal(lineOf(table, `client-${count}`), undefined);
    assert.equal(put(table, `client-${CLIENT_TABLE_CHUNK}`, 'replaced'), false);
    assert.equal(lineOf(table, `client-${CLIENT_TABLE_CHUNK}`), 'replaced');
    assert.equal([...table.atLines()].length, count);
  });

  test('a doubling ends before the next can begin, at any size', () => {
    // A doubling of n slots begins at MAX_LOAD * n clients and ends n / MOVES adds later; the next
    // begins at MAX_LOAD * 2n, MAX_LOAD * n adds later. The table relies on this (ClientTable.add).
    assert.ok(
      1 / CLIENT_TABLE_MOVES_PER_ADD < CLIENT_TABLE_MAX_LOAD,
      `${CLIENT_TABLE_MOVES_PER_ADD} moves per add do not outpace a load bound of ${CLIENT_TABLE_MAX_LOAD}`,
    );
  });

  test('a doubling moves CLIENT_TABLE_MOVES_PER_ADD old slots per add, and every id is found meanwhile', () => {
    const table = new ClientTable({ firstSlots: 1024, seed: 7 });
    const fits = Math.floor(1024 * CLIENT_TABLE_MAX_LOAD);
    for (let i = 0; i < fits; i++) put(table, `id${i}`, `line${i}`);
    assert.equal(table.movesLeft, 0, 'at the bound: no doubling');
    put(table, `id${fits}`, `line${fits}`);
    // The add that begins a doubling moves its share too: the rest is left for the next adds.
    assert.equal(table.movesLeft, 1024 - CLIENT_TABLE_MOVES_PER_ADD);
    let held = fits + 1;
    while (table.movesLeft > 0) {
      const before: number = table.movesLeft;
      put(table, `id${held}`, `line${held}`);
      held++;
      assert.equal(table.movesLeft, Math.max(0, before - CLIENT_TABLE_MOVES_PER_ADD));
      for (let i = 0; i < held; i++) assert.equal(lineOf(table, `id${i}`), `line${i}`, `id${i} while moving`);
      assert.equal(lineOf(table, `id${held}`), undefined);
    }
    assert.equal(held, fits + 1 + (1024 - CLIENT_TABLE_MOVES_PER_ADD) / CLIENT_TABLE_MOVES_PER_ADD);
    assert.ok(held < 2048 * CLIENT_TABLE_MAX_LOAD, 'done before the doubled slots are full enough to double');
  });

  test('ids of one hash are told apart by their bytes, and probing wraps past the last slot', () => {
    const table = new ClientTable({ firstSlots: 8 });
    // Hash 7 lands on the last of eight slots: the second and third ids wrap to slots 0 and 1.
    for (const id of ['a', 'b', 'c']) assert.equal(put(table, id, `at ${id}`, 7), true);
    for (const id of ['a', 'b', 'c']) assert.equal(table.lineAt(table.find(id, 7)), `at ${id}`);
    assert.ok(table.find('d', 7) < 0, 'an absent id of the same hash is not found');
    assert.equal(put(table, 'b', 'at b, later', 7), false);
    assert.equal(table.lineAt(table.find('b', 7)), 'at b, later');
    assert.equal(table.size, 3);
  });

  test('doubles its slots once they are more than CLIENT_TABLE_MAX_LOAD full, and keeps every id', () => {
    const table = new ClientTable({ firstSlots: 16, seed: 1 });
    const freeSlots = (): number[] =>
      Array.from({ length: 40 }, (_, i) => ~table.find(`absent${i}`, table.hashOf(`absent${i}`)));
    const fits = Math.floor(16 * CLIENT_TABLE_MAX_LOAD);
    for (let i = 0; i < fits; i++) put(table, `id${i}`, `line${i}`);
    assert.ok(Math.max(...freeSlots()) < 16, 'at the bound: still 16 slots');
    put(table, `id${fits}`, `line${fits}`);
    assert.ok(Math.max(...freeSlots()) >= 16, 'past it: more than 16 slots');
    for (let i = 0; i <= fits; i++) assert.equal(lineOf(table, `id${i}`), `line${i}`);
  });

  test('iterates in the order first stored, live: a later add is reached, an earlier replace is seen', () => {
    const table = new ClientTable();
    put(table, 'x', 'x1');
    put(table, 'y', 'y1');
    const lines = table.atLines();
    assert.deepEqual(lines.next(), { value: 'x1', done: false });
    put(table, 'z', 'z1');
    put(table, 'y', 'y2');
    put(table, 'x', 'x2');
    assert.deepEqual([...lines], ['y2', 'z1']);
    assert.deepEqual(
      [...table.entries()],
      [
        ['x', 'x2'],
        ['y', 'y2'],
        ['z', 'z1'],
      ],
    );
  });

  test('refuses a first slot count that is not a power of two', () => {
    assert.throws(() => new ClientTable({ firstSlots: 12 }), /firstSlots must be a power of two of at least 2, not 12/);
    assert.throws(() => new ClientTable({ firstSlots: 1 }), RangeError);
  });

  test('property: holds what a Map holds, for any ids in any order, whatever the seed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.string({ maxLength: 6 })), { maxLength: 200 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (pairs, seed) => {
          const table = new ClientTable({ firstSlots: 2, seed });
          const map = new Map<string, string>();
          for (const [id, line] of pairs) {
            assert.equal(put(table, id, line), !map.has(id));
            map.set(id, line);
            // Every id held is found at every step, doublings under way included.
            for (const [heldId, heldLine] of map) assert.equal(lineOf(table, heldId), heldLine);
          }
          assert.deepEqual([...table.entries()], [...map.entries()]);
          for (const [id, line] of map) assert.equal(lineOf(table, id), line);
        },
      ),
      FC,
    );
  });
});
