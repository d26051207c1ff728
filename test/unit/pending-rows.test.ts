/**
 * The rows a durable store has not committed yet (src/store/pending-rows.ts): batches taken oldest
 * first, each at most the batch size, rows in the order they came, and whatever the writes, takes
 * and failed commits, the rows committed in order (the last row of a client winning, as the commit's
 * upsert does: src/store/sqlite-table.ts `prepareUpsert`) end as the newest row of every client.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { PendingRows, rowCount, type RowBatch } from '../../src/store/pending-rows.js';
import { connect, prepareUpsert, SCHEMA } from '../../src/store/sqlite-table.js';

const FC = { seed: 22, numRuns: 300 } as const;

/** A batch's rows as [id, line] pairs, in order. */
function pairs(batch: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < batch.length; i += 2) out.push([batch[i] as string, batch[i + 1] as string]);
  return out;
}

/** Rows as [id, line] pairs from their lines, e.g. `a1 b2`: each line's client is its first letter. */
function rowsOf(lines: string): [string, string][] {
  return lines === '' ? [] : lines.split(' ').map((line) => [line.slice(0, 1), line]);
}

/** Rows in batches of `batchSize`, after a batch of `a1`, `b1` (clients a and b) was taken and failed. */
function afterFailedBatch(batchSize: number): { pending: PendingRows; failed: RowBatch } {
  const pending = new PendingRows(batchSize);
  pending.push('a', 'a1');
  pending.push('b', 'b1');
  return { pending, failed: pending.take() };
}

describe('PendingRows', () => {
  test('batches of at most the batch size, oldest first, rows in the order they came (a client updated twice has two)', () => {
    const pending = new PendingRows(3);
    for (const [id, line] of rowsOf('a1 b1 a2 c1 a3')) pending.push(id, line);
    assert.equal(pending.size, 5);
    assert.deepEqual(pairs(pending.take()), rowsOf('a1 b1 a2'));
    assert.deepEqual(pairs(pending.take()), rowsOf('c1 a3'));
    assert.equal(pending.size, 0);
    assert.deepEqual(pending.take(), []);
  });

  // A batch of a1, b1 was taken and failed: `before` came meanwhile, the batch is requeued, then
  // `after` came; `batches` are what the next takes give. Rows are written as in rowsOf.
  const requeues = [
    {
      title:
        'a failed batch goes back before the rows that came meanwhile, in one batch while they fit (it settles the waiters)',
      batchSize: 8,
      before: 'b2 c1',
      after: '',
      batches: ['a1 b1 b2 c1'],
    },
    {
      title: 'a failed batch that fills the batch being filled makes it a full one',
      batchSize: 3,
      before: 'c1',
      after: 'd1',
      batches: ['a1 b1 c1', 'd1'],
    },
    {
      title: 'a failed batch that does not fit beside the oldest goes back as its own batch, first',
      batchSize: 2,
      before: 'c1 d1',
      after: '',
      batches: ['a1 b1', 'c1 d1'],
    },
  ];
  for (const { title, batchSize, before, after, batches } of requeues) {
    test(title, () => {
      const { pending, failed } = afterFailedBatch(batchSize);
      for (const [id, line] of rowsOf(before)) pending.push(id, line);
      pending.requeue(failed);
      for (const [id, line] of rowsOf(after)) pending.push(id, line);
      assert.equal(pending.size, 4);
      for (const batch of batches) assert.deepEqual(pairs(pending.take()), rowsOf(batch));
      assert.equal(pending.size, 0, 'nothing left behind the batches');
    });
  }

  test('any writes, takes and failed commits: committing in order, the last row winning, gives the newest row of every client', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), id: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('commit' as const), fails: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 80 }), (batchRows, ops) => {
        const pending = new PendingRows(batchRows);
        const table = new Map<string, string>();
        const newest = new Map<string, string>();
        ops.forEach((o, i) => {
          if (o.kind === 'push') {
            pending.push(`c${o.id}`, `line ${i}`);
            newest.set(`c${o.id}`, `line ${i}`);
            return;
          }
          const rows = pending.take();
          assert.ok(rowCount(rows) <= batchRows);
          if (o.fails) pending.requeue(rows);
          else for (const [id, line] of pairs(rows)) table.set(id, line);
        });
        for (const [id, line] of pairs(pending.drain())) table.set(id, line);
        assert.equal(pending.size, 0);
        assert.deepEqual(new Map([...table].sort()), new Map([...newest].sort()));
      }),
      FC,
    );
  });

  test("the commit's upsert keeps the last row of a client with several, whatever the order of ids", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herd-pending-'));
    try {
      const db = connect(path.join(dir, 'store.db'), false);
      db.exec(SCHEMA);
      const upsert = prepareUpsert(db);
      upsert(['b', 'b1', 'a', 'a1', 'b', 'b2', 'c', 'c1', 'a', 'a2', 'b', 'b3']);
      upsert(['c', 'c2', 'a', 'a3', 'c', 'c3']);
      const rows = db.prepare('SELECT client_id, at_line FROM locations ORDER BY client_id').raw().all();
      db.close();
      assert.deepEqual(rows, [
        ['a', 'a3'],
        ['b', 'b3'],
        ['c', 'c3'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the commit's guard runs inside its one transaction: what it throws rolls the commit back", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herd-pending-'));
    try {
      const db = connect(path.join(dir, 'store.db'), false);
      db.exec(SCHEMA);
      const inTransaction: boolean[] = [];
      let stop = false;
      const upsert = prepareUpsert(db, () => {
        inTransaction.push(db.inTransaction);
        if (stop) throw new Error('stopped');
      });
      upsert.immediate(['a', 'a1']);
      stop = true;
      assert.throws(() => upsert.immediate(['a', 'a2', 'b', 'b1']), /stopped/);
      assert.deepEqual(inTransaction, [true, true]);
      assert.equal(db.inTransaction, false);
      const rows = db.prepare('SELECT client_id, at_line FROM locations ORDER BY client_id').raw().all();
      db.close();
      assert.deepEqual(rows, [['a', 'a1']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the commit's upsert in statements of several rows: the newest row of every client, binary strings as they were", () => {
    // Batches up to 400 rows cross every block size (128 and each power of two below it); ids from a small set repeat within
    // and across blocks; code units 0x80-0xff are stored as the strings they were.
    const id = fc.integer({ min: 0, max: 300 }).map((n) => `c\u00e9${n}\u00ff`);
    const batch = fc.array(fc.tuple(id, fc.string({ unit: 'binary-ascii', maxLength: 8 })), { maxLength: 400 });
    const dir = mkdtempSync(path.join(tmpdir(), 'herd-pending-'));
    try {
      let run = 0;
      fc.assert(
        fc.property(fc.array(batch, { minLength: 1, maxLength: 4 }), (batches) => {
          const db = connect(path.join(dir, `store-${run++}.db`), false);
          try {
            db.exec(SCHEMA);
            const upsert = prepareUpsert(db);
            const newest = new Map<string, string>();
            batches.forEach((rows, b) => {
              const lines = rows.map(([client, text], i): [string, string] => [client, `AT \u00fe${b}.${i} ${text}`]);
              for (const [client, line] of lines) newest.set(client, line);
              if (lines.length > 0) upsert(lines.flat());
            });
            const stored = db.prepare('SELECT client_id, at_line FROM locations').raw().all() as [string, string][];
            assert.deepEqual(new Map(stored), newest);
          } finally {
            db.close();
          }
        }),
        { seed: 22, numRuns: 40 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
