/**
 * The durable store's page caches (src/store/sqlite-table.ts): the server thread's connection keeps
 * SQLite's small default, so the start's read of the whole table does not stay in memory for the
 * server's life; the writer thread's is bounded, yet holds the upper B-tree levels of a large table.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { silentLogger } from '../../src/observability/logger.js';
import { openSqliteLog } from '../../src/store/sqlite-open.js';
import {
  connect,
  prepareUpsert,
  SCHEMA,
  SERVER_PAGE_CACHE_KIB,
  WRITER_PAGE_CACHE_KIB,
} from '../../src/store/sqlite-table.js';
import { storedRecords } from '../helpers/stored-records.js';
import { withDir } from '../helpers/store-fixtures.js';

/** Rows of the sample table whose upper levels are scaled up to a million clients. */
const SAMPLE_ROWS = 20_000;
const MILLION = 1_000_000;

/** `rows` clients with AT lines as a herd's, as the writer commits them (8,192 a commit, random ids). */
function fill(db: Database.Database, rows: number): void {
  const upsert = prepareUpsert(db);
  for (let from = 0; from < rows; from += 8192) {
    const batch: string[] = [];
    for (let n = from; n < Math.min(rows, from + 8192); n++) {
      const id = `client-${(n * 7919) % rows}.example.org`;
      batch.push(id, `AT Alford +0.123456789 ${id} +34.068930-118.445127 ${1_700_000_000 + n}.123456789`);
    }
    upsert(batch);
  }
}

describe("the durable store's page caches", () => {
  test("the server thread's connection keeps SQLite's default cache, after reading every stored row", async () => {
    await withDir(async (dir) => {
      const file = path.join(dir, 'A.sqlite');
      const created = openSqliteLog({ file, logger: silentLogger() });
      const writer = connect(file, true, { pageCacheKib: WRITER_PAGE_CACHE_KIB });
      fill(writer, 5000);
      writer.close();
      const db = (created.log as unknown as { db: Database.Database }).db;
      assert.equal(db.pragma('cache_size', { simple: true }), -SERVER_PAGE_CACHE_KIB);
      assert.equal(storedRecords(created.rows, 1000).length, 5000);
      assert.equal(db.pragma('cache_size', { simple: true }), -SERVER_PAGE_CACHE_KIB);
      created.log.close();
      assert.ok(SERVER_PAGE_CACHE_KIB < WRITER_PAGE_CACHE_KIB);
      // A connection left to its default gets the server's small cache too.
      const other = connect(file, true);
      assert.equal(other.pragma('cache_size', { simple: true }), -SERVER_PAGE_CACHE_KIB);
      other.close();
    });
  });

  test("the writer's cache holds the upper B-tree levels of a million clients' table, with room", async () => {
    await withDir(async (dir) => {
      const db = connect(path.join(dir, 'A.sqlite'), false, { pageCacheKib: WRITER_PAGE_CACHE_KIB });
      db.exec(SCHEMA);
      assert.equal(db.pragma('cache_size', { simple: true }), -WRITER_PAGE_CACHE_KIB);
      fill(db, SAMPLE_ROWS);
      const interior = db
        .prepare<[], number>("SELECT sum(pgsize) FROM dbstat WHERE name = 'locations' AND pagetype = 'internal'")
        .pluck()
        .get() as number;
      db.close();
      assert.ok(interior > 0, 'the sample table has interior pages');
      const atMillionKib = (interior * (MILLION / SAMPLE_ROWS)) / 1024;
      assert.ok(
        atMillionKib * 2 <= WRITER_PAGE_CACHE_KIB,
        `upper levels at a million clients about ${Math.round(atMillionKib)} KiB, cache ${WRITER_PAGE_CACHE_KIB} KiB`,
      );
    });
  });
});
