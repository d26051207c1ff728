/**
 * The commit of a durable store's batch (src/store/sqlite-table.ts `prepareUpsert`): rows go in by
 * statements of {@link UPSERT_ROWS_PER_STATEMENT} and one at a time for the rest, and whatever the
 * split, the table ends holding exactly the last line of every client id, byte for byte.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { binaryOf } from '../../src/protocol/bytes.js';
import { connect, flatRows, prepareUpsert, SCHEMA, UPSERT_ROWS_PER_STATEMENT } from '../../src/store/sqlite-table.js';
import { tempFolder } from '../helpers/temp-folder.js';

const FC = { seed: 22, numRuns: 40 } as const;

function atLineOf(clientId: string, time: number): string {
  return `AT Alford +0.263873386 ${clientId} +34.068930-118.445127 ${time}`;
}

describe('prepareUpsert', () => {
  const folder = tempFolder('herd-upsert-');

  /** Commits each batch in turn into a new table and returns its rows, client id -> AT line. */
  function commitAll(file: string, batches: readonly ReadonlyMap<string, string>[]): Map<string, string> {
    const db = connect(path.join(folder.dir, file), false);
    try {
      db.exec(SCHEMA);
      const upsert = prepareUpsert(db);
      for (const batch of batches) upsert(flatRows(batch));
      const rows = db
        .prepare<[], { client_id: string; at_line: string }>('SELECT client_id, at_line FROM locations')
        .all();
      return new Map(rows.map((row) => [row.client_id, row.at_line]));
    } finally {
      db.close();
    }
  }

  test('batch sizes around the statement size: every row, the last line of each id wins', () => {
    const n = UPSERT_ROWS_PER_STATEMENT;
    const sizes = [0, 1, n - 1, n, n + 1, 3 * n + 5];
    const expected = new Map<string, string>();
    const batches = sizes.map((size, round) => {
      // Each batch updates the ids of the ones before and adds new ones.
      const batch = new Map<string, string>();
      for (let i = 0; i < size; i++) batch.set(`client-${i}`, atLineOf(`client-${i}`, 1700000000 + round));
      for (const [id, line] of batch) expected.set(id, line);
      return batch;
    });
    assert.deepEqual(commitAll('sizes.db', batches), expected);
  });

  test('client ids as bytes: \\xfe and \\xff stay two rows, read back as the same binary strings', () => {
    const fe = binaryOf(Buffer.from([0xfe]));
    const ff = binaryOf(Buffer.from([0xff]));
    const batch = new Map<string, string>();
    for (let i = 0; i < UPSERT_ROWS_PER_STATEMENT; i++) batch.set(`c${i}`, atLineOf(`c${i}`, 1));
    batch.set(fe, atLineOf(fe, 2));
    batch.set(ff, atLineOf(ff, 3));
    const stored = commitAll('bytes.db', [batch]);
    assert.equal(stored.get(fe), atLineOf(fe, 2));
    assert.equal(stored.get(ff), atLineOf(ff, 3));
    assert.equal(stored.size, UPSERT_ROWS_PER_STATEMENT + 2);
  });

  test('any batches: the table equals the map of the last line per id', () => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.nat(1000)), { maxLength: 400 }), {
          maxLength: 4,
        }),
        (updates) => {
          const expected = new Map<string, string>();
          const batches = updates.map((batch) => {
            const rows = new Map<string, string>();
            for (const [id, time] of batch) rows.set(`id-${id}`, atLineOf(`id-${id}`, time));
            for (const [id, line] of rows) expected.set(id, line);
            return rows;
          });
          assert.deepEqual(commitAll(`any-${run++}.db`, batches), expected);
        },
      ),
      FC,
    );
  });
});
