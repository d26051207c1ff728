/** What the durable-store tests share: records, a scratch folder, what a file holds, and an observer that counts. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StoreFailureReason } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { AtRecord } from '../../src/protocol/at-record.js';
import { openSqliteLog, type OpenedLog, type SqliteLogOptions } from '../../src/store/sqlite-open.js';
import { capturingLogger } from './capture-log.js';
import type { StoreObserver } from '../../src/store/store-health.js';
import { storedRecords } from './stored-records.js';

/** A record of `clientId` at POSIX time `seconds`, as server `server` would store it. */
export function record(clientId: string, seconds: number, server = 'Alford'): AtRecord {
  return { clientId, atLine: `AT ${server} +0.000000001 ${clientId} +1.5-2.5 ${seconds}` };
}

/** What a store file holds, by reopening it (and closing it again): client id -> AT line. */
export function reopen(file: string): Map<string, string> {
  const again = openSqliteLog({ file, logger: silentLogger() });
  const held = new Map(storedRecords(again.rows).map((r) => [r.clientId, r.atLine]));
  again.log.close();
  return held;
}

/** Runs `body` with a fresh temporary folder, removed afterwards. */
export async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-store-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `body` with a store opened by `openSqliteLog` on `A.sqlite` in a scratch folder ({@link withDir}),
 * with `options` and a logger that keeps what it logs (`log.events()`); `body` closes it.
 */
export async function withSqliteLog(
  options: Omit<SqliteLogOptions, 'file' | 'logger'>,
  body: (store: { opened: OpenedLog; file: string; log: ReturnType<typeof capturingLogger> }) => Promise<void>,
): Promise<void> {
  await withDir(async (dir) => {
    const file = path.join(dir, 'A.sqlite');
    const log = capturingLogger();
    await body({ opened: openSqliteLog({ ...options, file, logger: log.logger }), file, log });
  });
}

/** A store observer that remembers every commit, failure and drop. */
export class CountingStoreObserver implements StoreObserver {
  commits = 0;
  readonly failures: StoreFailureReason[] = [];
  dropped = 0;

  storeCommit(): void {
    this.commits++;
  }

  storeFailure(reason: StoreFailureReason): void {
    this.failures.push(reason);
  }

  storeDropped(rows: number): void {
    this.dropped += rows;
  }
}
