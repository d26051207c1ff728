/** The durable store (issue "Nothing lost"): group commit, reopen, epochs, corrupt files. */
import { capturingLogger } from '../helpers/capture-log.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { silentLogger } from '../../src/observability/logger.js';
import { openSqliteLog } from '../../src/store/sqlite-open.js';
import { storedRecords } from '../helpers/stored-records.js';
import { COMMIT_MAX_ROWS } from '../../src/store/store-settings.js';
import { ROOT } from '../helpers/herd-process.js';
import { record, reopen, withDir, withSqliteLog } from '../helpers/store-fixtures.js';

describe('the durable store (SQLite)', { timeout: 90_000 }, () => {
  test('records written are committed within the interval, survive a reopen, and the epoch grows per open', async () => {
    await withDir(async (dir) => {
      const file = path.join(dir, 'nested', 'A.sqlite');
      const first = openSqliteLog({ file, commitIntervalMs: 20, logger: silentLogger() });
      assert.equal(first.epoch, 1);
      assert.deepEqual(storedRecords(first.rows), []);
      first.log.write(record('a', 1700000000));
      first.log.write(record('b', 1700000001));
      first.log.write(record('a', 1700000002));
      assert.equal(first.log.commits, 0, 'nothing is written on the reply path');
      await first.log.whenCommitted();
      assert.equal(first.log.commits, 1, 'one transaction for the batch');
      first.log.close();
      const second = openSqliteLog({ file, logger: silentLogger() });
      assert.equal(second.epoch, 2);
      const byId = new Map(storedRecords(second.rows).map((r) => [r.clientId, r]));
      assert.equal(byId.size, 2);
      assert.equal(byId.get('a')?.atLine, record('a', 1700000002).atLine);
      // The AT line carries the client's time and location: they come back exactly.
      assert.equal(byId.get('a')?.atLine.split(' ')[5], '1700000002');
      assert.equal(byId.get('b')?.atLine.split(' ')[4], '+1.5-2.5');
      second.log.close();
    });
  });

  test('a store created by its open is in WAL mode, its file synced, and its connection syncs every commit after', async () => {
    await withDir(async (dir) => {
      const file = path.join(dir, 'A.sqlite');
      const created = openSqliteLog({ file, logger: silentLogger() });
      assert.equal(created.existed, false);
      // The creation's steps are not synced one by one; from the first commit on, FULL (2), as when it existed.
      const db = (created.log as unknown as { db: Database.Database }).db;
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
      created.log.write(record('a', 1700000000));
      await created.log.whenCommitted();
      created.log.close();
      const reader = new Database(file, { readonly: true });
      assert.equal(reader.pragma('journal_mode', { simple: true }), 'wal');
      reader.close();
      const again = openSqliteLog({ file, logger: silentLogger() });
      assert.equal(again.existed, true);
      assert.equal(again.epoch, 2);
      assert.deepEqual(
        storedRecords(again.rows).map((r) => r.clientId),
        ['a'],
      );
      assert.equal((again.log as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true }), 2);
      again.log.close();
    });
  });

  test('a batch larger than one multi-row statement is committed whole', async () => {
    await withSqliteLog({ commitIntervalMs: 5 }, async ({ opened, file }) => {
      // 300 clients (two full statements of 128 rows and a rest of 44: 32, 8 and 4), one of them written twice.
      for (let i = 0; i < 300; i++) opened.log.write(record(`many-${i}`, 1700000000 + i));
      opened.log.write(record('many-7', 1800000000));
      await opened.log.whenCommitted();
      opened.log.close();
      const held = reopen(file);
      assert.equal(held.size, 300);
      assert.equal(held.get('many-7'), record('many-7', 1800000000).atLine);
      assert.equal(held.get('many-299'), record('many-299', 1700000299).atLine);
    });
  });

  test('a failed commit rejects its waiters, keeps the records, and retries at the next interval', async () => {
    await withSqliteLog({ commitIntervalMs: 20 }, async ({ opened, file, log }) => {
      // Another connection pulls the table away: the next commit fails.
      const other = new Database(file);
      other.exec('DROP TABLE locations');
      opened.log.write(record('kept', 1700000000));
      await assert.rejects(opened.log.whenCommitted(), /no such table/);
      assert.ok(log.events().some((entry) => entry.event === 'store-commit-failed'));
      other.exec('CREATE TABLE locations (client_id TEXT PRIMARY KEY, at_line TEXT NOT NULL) WITHOUT ROWID');
      other.close();
      await opened.log.whenCommitted();
      opened.log.close();
      assert.deepEqual([...reopen(file).keys()], ['kept']);
    });
  });

  test('a waiter starts a commit right after the turn, without waiting for the interval; one turn is one commit', async () => {
    await withSqliteLog({ commitIntervalMs: 10_000 }, async ({ opened, file }) => {
      // An interval no test would wait for: only a waiter can cause the commits below.
      const waits: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        opened.log.write(record(`sync-${i}`, 1700000000 + i));
        waits.push(opened.log.whenCommitted());
      }
      assert.equal(opened.log.commits, 0, 'not while the turn runs');
      await Promise.all(waits);
      assert.equal(opened.log.commits, 1, 'the turn shares one commit');
      // Written while nobody waits: left for the interval; a later waiter takes it along.
      opened.log.write(record('later', 1800000000));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(opened.log.commits, 1);
      await opened.log.whenCommitted();
      assert.equal(opened.log.commits, 2);
      assert.equal(await opened.log.whenCommitted(), undefined, 'nothing pending: resolves at once');
      opened.log.close();
      assert.equal(reopen(file).size, 51);
    });
  });

  test('close() commits what is pending', async () => {
    await withSqliteLog({ commitIntervalMs: 10_000 }, async ({ opened, file }) => {
      opened.log.write(record('late', 1700000000));
      opened.log.close();
      assert.equal(reopen(file).size, 1);
    });
  });

  test('commits run on the writer thread: commit() returns at once, rows written meanwhile go into the next commit', async () => {
    await withSqliteLog({ commitIntervalMs: 10_000 }, async ({ opened, file }) => {
      for (let i = 0; i < 5_000; i++) opened.log.write(record(`bulk-${i}`, 1700000000 + i));
      opened.log.commit();
      assert.equal(opened.log.commits, 0, 'the transaction is not run by commit() itself');
      // Nothing pending, one commit running: a waiter waits for that one.
      const first = opened.log.whenCommitted();
      opened.log.write(record('meanwhile', 1800000000));
      const second = opened.log.whenCommitted();
      await first;
      assert.ok(opened.log.commits >= 1);
      await second;
      assert.equal(opened.log.commits, 2, 'what arrived while the first ran went into the next');
      opened.log.close();
      assert.equal(reopen(file).size, 5_001);
    });
  });

  test(`a backlog of more than COMMIT_MAX_ROWS (${COMMIT_MAX_ROWS}) rows is committed in several commits, oldest first; a waiter waits for the last`, async () => {
    await withSqliteLog({ commitIntervalMs: 10_000 }, async ({ opened, file }) => {
      const total = COMMIT_MAX_ROWS * 2 + 10;
      for (let i = 0; i < total; i++) opened.log.write(record(`big-${i}`, 1700000000 + i));
      await opened.log.whenCommitted();
      assert.equal(opened.log.commits, 3);
      opened.log.close();
      assert.equal(reopen(file).size, total);
    });
  });

  test('close() waits for a commit the writer thread is running, then writes the rest', async () => {
    await withSqliteLog({ commitIntervalMs: 10_000 }, async ({ opened, file }) => {
      for (let i = 0; i < 20_000; i++) opened.log.write(record(`run-${i}`, 1700000000 + i));
      opened.log.commit();
      const running = opened.log.whenCommitted();
      opened.log.write(record('run-0', 1800000000));
      opened.log.write(record('after', 1800000001));
      const rest = opened.log.whenCommitted();
      // At once, as the crash handler does: no event-loop turn for the writer's reply.
      opened.log.close();
      await running;
      await rest;
      assert.equal(opened.log.commits, 2);
      const held = reopen(file);
      assert.equal(held.size, 20_001);
      assert.equal(held.get('run-0'), record('run-0', 1800000000).atLine);
    });
  });

  test('a writer thread that dies mid-commit is logged, its commit fails, and a new thread commits the rows', async () => {
    await withSqliteLog({ commitIntervalMs: 20 }, async ({ opened, file, log }) => {
      for (let i = 0; i < 5_000; i++) opened.log.write(record(`die-${i}`, 1700000000 + i));
      opened.log.commit();
      const running = opened.log.whenCommitted();
      // The thread is private: reached here only to kill it, as an out-of-memory or a native crash would.
      await (opened.log as unknown as { writer: { worker: Worker } }).writer.worker.terminate();
      await assert.rejects(running, /exited/);
      assert.ok(log.events().some((entry) => entry.event === 'store-writer-failed'));
      await opened.log.whenCommitted();
      opened.log.close();
      assert.equal(reopen(file).size, 5_000);
    });
  });

  test('close() gives up on a writer thread stuck past closeWaitMs, tries the rest itself, and rejects the waiters when that fails too', async () => {
    await withSqliteLog({ commitIntervalMs: 10_000, closeWaitMs: 50 }, async ({ opened, file, log }) => {
      // Another connection holds the write lock: the writer thread's commit waits on it (BUSY_TIMEOUT_MS).
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      try {
        opened.log.write(record('stuck', 1700000000));
        const waiting = opened.log.whenCommitted();
        opened.log.commit();
        const started = performance.now();
        opened.log.close();
        assert.ok(performance.now() - started >= 50, 'it waited closeWaitMs for the writer thread');
        await assert.rejects(waiting, /locked/);
        assert.ok(
          log.events().some((entry) => entry.event === 'store-commit-failed' && /at close/.test(String(entry.msg))),
          'the failed last commit is logged',
        );
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
    });
  });

  test('a commit still waiting for the lock when close() gives up never lands after the last write at close', async () => {
    await withSqliteLog({ commitIntervalMs: 10_000, closeWaitMs: 50 }, async ({ opened, file }) => {
      // Another process holds the write lock: the writer thread's commit of the older row waits for it,
      // and so does the last write at close, which has the newer row. The lock is let go just after
      // close() has given up on the writer: both then race for it, and on the writer thread SQLite's
      // busy handler polls only every 100 ms by then, so the last write at close usually gets it first.
      const holder = spawn(
        process.execPath,
        [
          '-e',
          `const db = new (require('better-sqlite3'))(process.argv[1]); db.exec('BEGIN IMMEDIATE'); console.log('locked'); process.stdin.once('data', () => setTimeout(() => { db.exec('ROLLBACK'); db.close(); process.exit(0); }, 80));`,
          file,
        ],
        { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const holderExited = once(holder, 'exit');
      await once(holder.stdout as NodeJS.ReadableStream, 'data');
      opened.log.write(record('x', 1700000000));
      opened.log.commit();
      // Long enough for SQLite's busy handler on the writer thread to poll only every 100 ms.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      opened.log.write(record('x', 1800000000));
      const writer = (opened.log as unknown as { writer: { worker: Worker } }).writer.worker;
      const writerExited = once(writer, 'exit');
      holder.stdin?.write('release\n');
      opened.log.close();
      await holderExited;
      // Whatever the writer thread was going to do, it has done once it is gone (an unreferenced
      // thread does not keep the test's event loop turning while it finishes: the interval does).
      const keepAlive = setInterval(() => undefined, 1000);
      await writerExited;
      clearInterval(keepAlive);
      assert.equal(reopen(file).get('x'), record('x', 1800000000).atLine);
    });
  });

  test('a corrupt file is moved aside, reported at error level, and the store starts empty', async () => {
    await withDir(async (dir) => {
      const file = path.join(dir, 'A.sqlite');
      await writeFile(file, Buffer.alloc(8192, 0x5a));
      const log = capturingLogger();
      const opened = openSqliteLog({ file, logger: log.logger });
      assert.deepEqual(storedRecords(opened.rows), []);
      assert.equal(opened.epoch, 1);
      opened.log.write(record('fresh', 1700000000));
      opened.log.close();
      const entries = await readdir(dir);
      assert.ok(
        entries.some((name) => /^A\.sqlite\.corrupt-\d+$/.test(name)),
        entries.join(', '),
      );
      const error = log.events().find((entry) => entry.event === 'store-corrupt');
      assert.ok(error, 'logged store-corrupt');
      assert.equal(error.level, 50);
      assert.match(error.msg, /unreadable.*moved it to.*peers will catch this server up/);
      assert.equal(reopen(file).size, 1);
    });
  });
});
