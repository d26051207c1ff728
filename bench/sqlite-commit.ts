/**
 * How long one commit of the durable store takes on this machine's disk, by batch size: the reason
 * commits run on a writer thread (docs/benchmarks.md "Durable store commits (why they run on a
 * writer thread)"); and the CPU a commit costs per row, the writer thread's share of an IAMAT's CPU
 * (docs/benchmarks.md "The durable store's upsert, rows per statement (2026-12-03, shared box)").
 * A table of 100,000 clients is filled first; each batch then upserts rows with the store's own
 * statement ({@link prepareUpsert}) on a connection as the writer thread's (`synchronous = FULL`, its page
 * cache), 60 commits per size, in two patterns:
 *
 * - `random`: rows of random client ids out of 200,000 (as a herd's are), most of them updates;
 * - `new`: rows of new clients named `<prefix><n>` with n counting up (the cost scenario's IAMATs,
 *   bench/request-writers.ts), every one an insert.
 *
 * CPU is `process.cpuUsage()` (user + system) around the commits alone: this script runs no other
 * thread, so it is the commits' thread.
 *
 * Usage: `node --import tsx bench/sqlite-commit.ts` (prints one line per pattern and batch size).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, prepareUpsert, SCHEMA, WRITER_PAGE_CACHE_KIB } from '../src/store/sqlite-table.js';

const TABLE_ROWS = 100_000;
const CLIENT_IDS = 200_000;
const COMMITS_PER_SIZE = 60;
const SIZES = [25, 64, 256, 1024, 4096];
const PATTERNS = ['random', 'new'] as const;

/** A source of batches: `size` rows of client id and AT line alternating. */
function batches(pattern: (typeof PATTERNS)[number]): (size: number) => string[] {
  let n = 0;
  return (size) => {
    const rows: string[] = [];
    for (let i = 0; i < size; i++, n++) {
      const id = pattern === 'random' ? `client-${(n * 7919) % CLIENT_IDS}.example.org` : `cost-iamat-${n}`;
      rows.push(id, `AT Alford +0.123456789 ${id} +34.068930-118.445127 ${1_700_000_000 + n}.123456789`);
    }
    return rows;
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'herd-commit-'));
try {
  for (const pattern of PATTERNS) {
    const db = connect(path.join(dir, `${pattern}.sqlite`), false, { pageCacheKib: WRITER_PAGE_CACHE_KIB });
    db.exec(SCHEMA);
    const upsert = prepareUpsert(db);
    const batch = batches(pattern);
    for (let filled = 0; filled < TABLE_ROWS; filled += 1000) upsert(batch(1000));
    for (const size of SIZES) {
      const ms: number[] = [];
      let cpuUs = 0;
      for (let r = 0; r < COMMITS_PER_SIZE; r++) {
        const rows = batch(size);
        const cpu = process.cpuUsage();
        const started = performance.now();
        upsert(rows);
        ms.push(performance.now() - started);
        const used = process.cpuUsage(cpu);
        cpuUs += used.user + used.system;
      }
      ms.sort((a, b) => a - b);
      const at = (q: number): string => (ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] as number).toFixed(2);
      const perRow = (cpuUs / (size * COMMITS_PER_SIZE)).toFixed(2);
      console.log(
        `${pattern.padEnd(6)} ${size} rows: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms; CPU ${perRow} us a row`,
      );
    }
    db.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
