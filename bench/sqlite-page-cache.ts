/**
 * What the durable store's page cache buys and costs, at a table size (docs/benchmarks.md "Memory
 * per client: where the RSS outside the heap went (2026-12-03)"): on a connection whose page cache
 * is `kib` KiB (`synchronous = FULL`, the store's own upsert, {@link prepareUpsert}), a table of
 * `rows` new clients `mem-<n>` is filled in commits of `fill` rows (8,192 by default, as the memory
 * scenario's ingest), then updated at random in commits of 25, 256 and 8,192 rows. It prints the CPU
 * per row of each phase (`process.cpuUsage()`: this script runs no other thread) and the process's
 * RSS growth, mostly the page cache once the table outgrows it.
 *
 * Usage: `node --import tsx bench/sqlite-page-cache.ts <kib> [rows] [fill]` (rows: 1,000,000 by
 * default). Run the sizes to compare one after the other, alternating: the box's load moves the CPU.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, prepareUpsert, SCHEMA } from '../src/store/sqlite-table.js';

/** Random-update commits: rows per commit, and how many commits. */
const UPDATES: readonly (readonly [number, number])[] = [
  [25, 200],
  [256, 60],
  [8192, 6],
];

const kib = Number(process.argv[2]);
const rows = Number(process.argv[3] ?? 1_000_000);
const fillPerCommit = Number(process.argv[4] ?? 8192);
if (!(kib > 0) || !(rows > 0) || !(fillPerCommit > 0)) {
  throw new Error('usage: sqlite-page-cache.ts <kib> [rows] [fill rows per commit]');
}
const line = (id: string, seconds: number): string =>
  `AT Alford +0.123456789 ${id} +34.068930-118.445127 ${seconds}.123456789`;
const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
const cpuUs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'herd-page-cache-'));
try {
  const db = connect(path.join(dir, 'store.sqlite'), false, { pageCacheKib: kib });
  db.exec(SCHEMA);
  const upsert = prepareUpsert(db);
  const rss0 = process.memoryUsage().rss;
  let cpu = process.cpuUsage();
  for (let filled = 0; filled < rows;) {
    const batch: string[] = [];
    for (let i = 0; i < fillPerCommit && filled < rows; i++, filled++) {
      batch.push(`mem-${filled}`, line(`mem-${filled}`, 1_700_000_000 + filled));
    }
    upsert(batch);
  }
  const fill = cpuUs(cpu) / rows;
  const updates: string[] = [];
  let n = 0;
  for (const [size, commits] of UPDATES) {
    cpu = process.cpuUsage();
    for (let c = 0; c < commits; c++) {
      const batch: string[] = [];
      for (let i = 0; i < size; i++, n++) {
        const id = `mem-${(n * 7919 + 13) % rows}`;
        batch.push(id, line(id, 1_800_000_000 + n));
      }
      upsert(batch);
    }
    updates.push(`random ${size} ${(cpuUs(cpu) / (size * commits)).toFixed(2)} us/row`);
  }
  console.log(
    `cache ${kib} KiB, ${rows} rows: fill (${fillPerCommit} a commit) ${fill.toFixed(2)} us/row; ${updates.join(', ')}; RSS +${mb(process.memoryUsage().rss - rss0)} MB`,
  );
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
