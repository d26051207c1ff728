/**
 * The durable store at start-up: a data folder that cannot be used is one clear error naming it
 * (src/store/sqlite-open.ts), and the table is restored after listening (src/store/restoring-store.ts):
 * a page at a time, every stored client answerable before its page is in (a point query), an update
 * always compared with the stored line.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { capturingLogger } from '../helpers/capture-log.js';
import { UsageError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { RestoringStore } from '../../src/store/restoring-store.js';
import { openSqliteLog, type OpenedLog } from '../../src/store/sqlite-open.js';

const atLine = (clientId: string, seconds: number, server = 'Alford'): string =>
  `AT ${server} +0.000000001 ${clientId} +1.5-2.5 ${seconds}`;

/** A store file holding `count` clients `c0000`..., each at time 1700000000 + i, and `extra` raw rows. */
async function withStore(
  count: number,
  body: (opened: OpenedLog, file: string) => Promise<void>,
  extra: [string, string][] = [],
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-restore-'));
  const file = path.join(dir, 'A.sqlite');
  const first = openSqliteLog({ file, logger: silentLogger() });
  for (let i = 0; i < count; i++) {
    const id = `c${String(i).padStart(4, '0')}`;
    first.log.write({ clientId: id, atLine: atLine(id, 1700000000 + i) });
  }
  first.log.close();
  if (extra.length > 0) {
    const db = new Database(file);
    for (const [id, line] of extra)
      db.prepare('INSERT INTO locations (client_id, at_line) VALUES (?, ?)').run(id, line);
    db.close();
  }
  const opened = openSqliteLog({ file, logger: silentLogger() });
  try {
    await body(opened, file);
  } finally {
    opened.log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('opening the durable store', () => {
  test('a data folder that cannot be made is a UsageError naming it, and how to fix it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-restore-'));
    try {
      // A regular file where the data folder should be: fails for root too.
      await writeFile(path.join(dir, 'data'), 'not a folder');
      const folder = path.join(dir, 'data', 'nested');
      assert.throws(
        () => openSqliteLog({ file: path.join(folder, 'A.sqlite'), logger: silentLogger() }),
        (error: unknown) =>
          error instanceof UsageError &&
          error.message.startsWith(`data folder ${folder}: cannot use it (ENOTDIR)`) &&
          /--data-dir/.test(error.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('restoring the table from the durable store', { timeout: 30_000 }, () => {
  test('every page comes in, a slice per turn; the summary is logged and loading() ends', async () => {
    await withStore(
      250,
      async (opened) => {
        const log = capturingLogger();
        const table = new RestoringStore();
        const restored = table.restore(opened.rows, { logger: log.logger, pageRows: 10, sliceMs: 0 });
        const loading = table.loading();
        assert.ok(loading instanceof Promise, 'loading until the last page');
        assert.equal(table.size, 0, 'nothing is read before the next turn');
        await new Promise((resolve) => setImmediate(resolve));
        assert.ok(table.size > 0 && table.size < 250, `one page per turn with sliceMs 0 (${table.size})`);
        const summary = await restored;
        await loading;
        assert.equal(table.loading(), undefined);
        assert.deepEqual({ ...summary, ms: 0 }, { records: 250, unreadable: 1, ms: 0, complete: true });
        assert.equal(table.size, 250);
        assert.equal(table.atLineOf('c0249'), atLine('c0249', 1700000249));
        const event = log.events().find((entry) => entry.event === 'store-restored');
        assert.equal(event?.records, 250);
        assert.equal(event?.unreadable, 1);
      },
      [['zz-bad', 'not an AT line']],
    );
  });

  test('before its page is in, a stored client is answered and an update is compared with its stored line', async () => {
    await withStore(100, async (opened) => {
      const table = new RestoringStore();
      const restored = table.restore(opened.rows, { logger: silentLogger(), pageRows: 10, sliceMs: 0 });
      // Read by every path before any page: from the store, one row at a time.
      assert.equal(table.atLineOf('c0099'), atLine('c0099', 1700000099));
      assert.equal(table.get('c0098')?.latitude, 1.5);
      assert.equal(table.atLineOf('nobody'), undefined);
      // An older update loses to the stored line, a newer one wins and no later page undoes it.
      assert.equal(table.offer({ clientId: 'c0097', atLine: atLine('c0097', 1600000000, 'Ball') }), false);
      assert.equal(table.offer({ clientId: 'c0096', atLine: atLine('c0096', 1800000000, 'Ball') }), true);
      assert.equal(table.offer({ clientId: 'new', atLine: atLine('new', 1800000000, 'Ball') }), true);
      await restored;
      assert.equal(table.atLineOf('c0097'), atLine('c0097', 1700000097));
      assert.equal(table.atLineOf('c0096'), atLine('c0096', 1800000000, 'Ball'));
      assert.equal(table.size, 101);
    });
  });

  test('a store that fails mid-way is logged; the table keeps what it read and loading() ends', async () => {
    await withStore(50, async (opened) => {
      const log = capturingLogger();
      const table = new RestoringStore();
      let pages = 0;
      const failing = {
        page: (after: Parameters<typeof opened.rows.page>[0], limit: number) => {
          if (++pages === 3) throw new Error('database disk image is malformed');
          return opened.rows.page(after, limit);
        },
        one: (clientId: string) => opened.rows.one(clientId),
      };
      const summary = await table.restore(failing, { logger: log.logger, pageRows: 10, sliceMs: 0 });
      assert.deepEqual({ ...summary, ms: 0 }, { records: 20, unreadable: 0, ms: 0, complete: false });
      assert.equal(table.loading(), undefined);
      assert.equal(table.size, 20);
      const event = log.events().find((entry) => entry.event === 'store-restore-failed');
      assert.equal(event?.level, 50);
      assert.match(String(event?.msg), /malformed.*anti-entropy brings the rest/);
    });
  });

  test('stop() ends a restore in progress (before the store closes)', async () => {
    await withStore(100, async (opened) => {
      const table = new RestoringStore();
      const restored = table.restore(opened.rows, { logger: silentLogger(), pageRows: 10, sliceMs: 0 });
      await new Promise((resolve) => setImmediate(resolve));
      table.stop();
      const summary = await restored;
      assert.equal(summary.complete, false);
      assert.equal(table.loading(), undefined);
      const held = table.size;
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(table.size, held, 'no page after stop()');
      assert.equal(table.atLineOf('c0099'), undefined, 'no point query after stop()');
    });
  });
});
