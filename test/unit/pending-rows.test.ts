/**
 * The rows a durable store has not committed yet (src/store/pending-rows.ts): batches taken oldest
 * first, each at most the batch size, and whatever the writes, takes and failed commits, the rows
 * committed in order end as the newest row of every client.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PendingRows } from '../../src/store/pending-rows.js';

const FC = { seed: 22, numRuns: 300 } as const;

describe('PendingRows', () => {
  test('batches of at most the batch size, oldest first; a client updated after its batch filled is in the next too', () => {
    const pending = new PendingRows(3);
    for (const [id, line] of [
      ['a', 'a1'],
      ['b', 'b1'],
      ['a', 'a2'],
      ['c', 'c1'],
      ['a', 'a3'],
      ['d', 'd1'],
    ])
      pending.set(id as string, line as string);
    assert.equal(pending.size, 5);
    assert.equal(pending.has('d'), true);
    assert.deepEqual(
      [...pending.take()],
      [
        ['a', 'a2'],
        ['b', 'b1'],
        ['c', 'c1'],
      ],
    );
    assert.deepEqual(
      [...pending.take()],
      [
        ['a', 'a3'],
        ['d', 'd1'],
      ],
    );
    assert.equal(pending.size, 0);
    assert.deepEqual([...pending.take()], []);
  });

  test('a failed batch goes back without the clients that have a newer row waiting, beside the oldest batch while they fit', () => {
    const pending = new PendingRows(2);
    pending.set('a', 'a1');
    pending.set('b', 'b1');
    const failed = pending.take();
    pending.set('b', 'b2');
    pending.requeue(failed);
    assert.equal(pending.size, 2);
    assert.deepEqual([...pending.take()].sort(), [
      ['a', 'a1'],
      ['b', 'b2'],
    ]);
    assert.equal(pending.size, 0);
  });

  test('a failed batch and the rows that came meanwhile are retried in one commit that takes every row waiting (it settles the waiters)', () => {
    const pending = new PendingRows(8);
    pending.set('a', 'a1');
    pending.set('b', 'b1');
    const failed = pending.take();
    pending.set('c', 'c1');
    pending.requeue(failed);
    assert.deepEqual([...pending.take()].sort(), [
      ['a', 'a1'],
      ['b', 'b1'],
      ['c', 'c1'],
    ]);
    assert.equal(pending.size, 0, 'nothing left behind the retry');
  });

  test('a failed batch that does not fit beside the oldest goes back as its own batch, first', () => {
    const pending = new PendingRows(2);
    pending.set('a', 'a1');
    pending.set('b', 'b1');
    const failed = pending.take();
    pending.set('c', 'c1');
    pending.set('d', 'd1');
    pending.requeue(failed);
    assert.equal(pending.size, 4);
    assert.deepEqual([...pending.take()].sort(), [
      ['a', 'a1'],
      ['b', 'b1'],
    ]);
    assert.deepEqual([...pending.take()].sort(), [
      ['c', 'c1'],
      ['d', 'd1'],
    ]);
  });

  test('any writes, takes and failed commits: committing in order gives the newest row of every client', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), id: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('commit' as const), fails: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 80 }), (batchRows, ops) => {
        const pending = new PendingRows(batchRows);
        const table = new Map<string, string>();
        const newest = new Map<string, string>();
        ops.forEach((o, i) => {
          if (o.kind === 'set') {
            pending.set(`c${o.id}`, `line ${i}`);
            newest.set(`c${o.id}`, `line ${i}`);
            return;
          }
          const rows = pending.take();
          assert.ok(rows.size <= batchRows);
          if (o.fails) pending.requeue(rows);
          else for (const [id, line] of rows) table.set(id, line);
        });
        for (const [id, line] of pending.drain()) table.set(id, line);
        assert.equal(pending.size, 0);
        assert.deepEqual(new Map([...table].sort()), new Map([...newest].sort()));
      }),
      FC,
    );
  });
});
