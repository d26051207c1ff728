/**
 * The durable store when its disk fails (docs/operations.md "When the store cannot write"), each
 * fault produced for real: a full tmpfs, an ext4 file system the kernel turns read-only, a data
 * directory removed while the server runs, a page of the file overwritten. Commits fail with a typed
 * reason, the rows stay queued (up to MAX_PENDING_ROWS), the state says so, and once the fault is gone
 * everything written, or the whole table, is on disk again.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { LocationStore } from '../../src/store/location-store.js';
import type { SqliteLocationLog } from '../../src/store/sqlite-log.js';
import { openSqliteLog } from '../../src/store/sqlite-open.js';
import { FAILED_COMMIT_RETRY_MS, MAX_PENDING_ROWS } from '../../src/store/store-settings.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { waitUntil } from '../helpers/herd-process.js';
import { EXT4_SKIP, TMPFS_SKIP, withExt4, withTmpfs } from '../helpers/scratch-fs.js';
import { CountingStoreObserver, record, reopen, withDir } from '../helpers/store-fixtures.js';

/** A store with a table attached, as a server has it: `put` stores a record and writes it. */
function storeIn(file: string, logger = silentLogger()) {
  const opened = openSqliteLog({ file, commitIntervalMs: 20, logger });
  const table = new LocationStore();
  const observer = new CountingStoreObserver();
  opened.log.attach({ table, observer });
  const put = (clientId: string, seconds: number): void => {
    const update = record(clientId, seconds);
    if (table.offer(update)) opened.log.write(update);
  };
  return { log: opened.log, table, observer, put };
}

/** Asserts that `file` holds exactly what `table` holds. */
function assertHoldsTable(file: string, table: LocationStore): void {
  const onDisk = reopen(file);
  assert.equal(onDisk.size, table.size, 'as many rows as the table');
  for (const atLine of table.atLines()) {
    const clientId = atLine.split(' ')[3] as string;
    assert.equal(onDisk.get(clientId), atLine, `row of ${clientId}`);
  }
}

/** Waits until the store commits again and has nothing queued. */
async function recovered(log: SqliteLocationLog, what: string): Promise<void> {
  await waitUntil(
    () => log.status().state === 'ok' && log.status().pendingRows === 0,
    FAILED_COMMIT_RETRY_MS + 10_000,
    what,
  );
}

describe('the durable store when its disk fails', { timeout: 120_000 }, () => {
  test(
    'a full disk: commits fail as full, rows stay queued, and are all written when space returns',
    { skip: TMPFS_SKIP },
    async () => {
      await withTmpfs(256 * 1024, async (fs) => {
        const file = path.join(fs.dir, 'A.sqlite');
        const { log, table, observer, put } = storeIn(file);
        let failure: unknown;
        for (let batch = 0; failure === undefined && batch < 200; batch++) {
          for (let i = 0; i < 100; i++) put(`full-${batch}-${i}`, 1700000000 + i);
          failure = await log.whenCommitted().then(
            () => undefined,
            (error: unknown) => error,
          );
        }
        assert.ok(failure instanceof StoreUnavailableError, `a commit failed: ${String(failure)}`);
        assert.equal(failure.reason, 'full');
        assert.equal(failure.code, 'HERD_STORE_UNAVAILABLE');
        const status = log.status();
        assert.equal(status.state, 'failing');
        assert.match(status.lastError ?? '', /SQLITE_FULL/);
        assert.ok(status.pendingRows >= 100, `the failed rows are still queued (${status.pendingRows})`);
        assert.ok(observer.failures.includes('full'));
        put('while-full', 1800000000);
        await fs.resize(16 * 1024 * 1024);
        await recovered(log, 'the queued rows to be committed once space returned');
        log.close();
        assertHoldsTable(file, table);
      });
    },
  );

  test(
    'a file system turned read-only under the open file: commits fail as read_only, the state is read-only',
    { skip: EXT4_SKIP },
    async () => {
      await withExt4(8, async (fs) => {
        const file = path.join(fs.dir, 'A.sqlite');
        const log = capturingLogger();
        const { log: store, put } = storeIn(file, log.logger);
        put('before', 1700000000);
        await store.whenCommitted();
        await fs.breakToReadOnly();
        put('after', 1700000001);
        const failure = await store.whenCommitted().then(
          () => undefined,
          (error: unknown) => error,
        );
        assert.ok(failure instanceof StoreUnavailableError, String(failure));
        assert.equal(failure.reason, 'read_only');
        assert.equal(store.status().state, 'read-only');
        assert.equal(store.status().pendingRows, 1);
        const logged = log.events().filter((entry) => entry.event === 'store-commit-failed');
        assert.equal(logged.length, 1, 'logged once');
        assert.equal(logged[0]?.reason, 'read_only');
        store.close();
      });
    },
  );

  test('a data directory removed while running: commits fail as missing; once it is back, the whole table is written into a new file', async () => {
    await withDir(async (dir) => {
      const data = path.join(dir, 'data');
      const file = path.join(data, 'A.sqlite');
      const { log, table, observer, put } = storeIn(file);
      for (let i = 0; i < 500; i++) put(`gone-${i}`, 1700000000 + i);
      await log.whenCommitted();
      await rm(data, { recursive: true, force: true });
      put('gone-0', 1800000000);
      put('while-gone', 1800000000);
      await assert.rejects(log.whenCommitted(), (error: unknown) => {
        assert.ok(error instanceof StoreUnavailableError);
        assert.equal(error.reason, 'missing');
        return true;
      });
      assert.equal(log.status().state, 'failing');
      assert.match(log.status().lastError ?? '', /data directory .* is gone/);
      assert.equal(log.status().bytes, undefined, 'no size without a file');
      await mkdir(data);
      await recovered(log, 'the table to be written into a new file');
      assert.ok(observer.failures.includes('missing'));
      log.close();
      assertHoldsTable(file, table);
    });
  });

  test('a page found damaged while running: the file is moved aside and the whole table is written into a new one', async () => {
    await withDir(async (dir) => {
      const file = path.join(dir, 'A.sqlite');
      const capture = capturingLogger();
      const { log, table, put } = storeIn(file, capture.logger);
      for (let i = 0; i < 3000; i++) put(`page-${i}`, 1700000000 + i);
      await log.whenCommitted();
      // Everything into the main file, then every page but the first two overwritten, as a failing
      // disk or a stray write would.
      const other = new Database(file);
      other.pragma('wal_checkpoint(TRUNCATE)');
      other.close();
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      for (let offset = 8192; offset < size; offset += 4096) writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, offset);
      closeSync(fd);
      put('page-7', 1800000000);
      await log.whenCommitted();
      await recovered(log, 'the table to be written into the new file');
      const replaced = capture.events().find((entry) => entry.event === 'store-replaced');
      assert.equal(replaced?.reason, 'corrupt');
      assert.ok(
        readdirSync(dir).some((name) => name === path.basename(String(replaced?.movedTo))),
        'the damaged file is kept beside it',
      );
      log.close();
      assertHoldsTable(file, table);
    });
  });

  test(`past MAX_PENDING_ROWS (${MAX_PENDING_ROWS}) queued rows while commits fail, the queue is dropped and counted, its waiters rejected, and the table rewritten once commits succeed`, async () => {
    await withDir(async (dir) => {
      const data = path.join(dir, 'data');
      const file = path.join(data, 'A.sqlite');
      const { log, table, observer, put } = storeIn(file);
      put('first', 1700000000);
      await log.whenCommitted();
      await rm(data, { recursive: true, force: true });
      put('second', 1700000001);
      await assert.rejects(log.whenCommitted(), /is gone/);
      const waiting = log.whenCommitted();
      for (let i = 0; i <= MAX_PENDING_ROWS; i++) put(`over-${i}`, 1700000000 + i);
      await assert.rejects(
        waiting,
        (error: unknown) => error instanceof StoreUnavailableError && error.reason === 'overflow',
      );
      assert.equal(observer.dropped, MAX_PENDING_ROWS);
      assert.ok(log.status().pendingRows <= 2, `what came after the drop is queued (${log.status().pendingRows})`);
      await mkdir(data);
      await recovered(log, 'the whole table to be rewritten');
      log.close();
      assertHoldsTable(file, table);
    });
  });
});
