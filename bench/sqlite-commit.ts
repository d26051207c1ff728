/**
 * How long one commit of the durable store takes on this machine's disk, by batch size: the reason
 * commits run on a writer thread (docs/benchmarks.md "Durable store commits (why they run on a
 * writer thread)"). A table of 100,000 clients is filled first; each batch then upserts rows of
 * random client ids (as a herd's are) with the store's own statement ({@link prepareUpsert}),
 * `synchronous = FULL`, 60 commits per size.
 *
 * Usage: `node --import tsx bench/sqlite-commit.ts` (prints one line per batch size, in ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, prepareUpsert, SCHEMA } from '../src/store/sqlite-table.js';

const TABLE_ROWS = 100_000;
const CLIENT_IDS = 200_000;
const COMMITS_PER_SIZE = 60;
const SIZES = [64, 256, 1024, 4096];

const dir = mkdtempSync(path.join(os.tmpdir(), 'herd-commit-'));
try {
  const db = connect(path.join(dir, 'bench.sqlite'), false);
  db.exec(SCHEMA);
  const upsert = prepareUpsert(db);
  let n = 0;
  const batch = (size: number): string[] => {
    const rows: string[] = [];
    for (let i = 0; i < size; i++, n++) {
      const id = `client-${(n * 7919) % CLIENT_IDS}.example.org`;
      rows.push(id, `AT Alford +0.123456789 ${id} +34.068930-118.445127 ${1_700_000_000 + n}.123456789`);
    }
    return rows;
  };
  for (let filled = 0; filled < TABLE_ROWS; filled += 1000) upsert(batch(1000));
  for (const size of SIZES) {
    const ms: number[] = [];
    for (let r = 0; r < COMMITS_PER_SIZE; r++) {
      const rows = batch(size);
      const started = performance.now();
      upsert(rows);
      ms.push(performance.now() - started);
    }
    ms.sort((a, b) => a - b);
    const at = (q: number): string => (ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] as number).toFixed(2);
    console.log(`${size} rows: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`);
  }
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
