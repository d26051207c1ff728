/**
 * Where a server's RSS is, by kind of mapping, from the `/proc/<pid>/smaps` copies the memory probe
 * writes (bench/memory-probe.mjs, `HERD_BENCH_PROBE_SMAPS_DIR`): docs/benchmarks.md "Memory per
 * client: where the RSS outside the heap went (2026-12-03)".
 *
 * Usage: `node --import tsx bench/smaps-summary.ts <file.smaps>...`, one line per file, MB of RSS:
 *
 * - `arenas`: glibc's malloc arenas of the threads other than the first (anonymous mappings that start
 *   on a 64 MiB boundary: glibc maps each arena's heaps so; SQLite's page caches, the writer thread's
 *   allocations);
 * - `brk`: the first thread's malloc heap (`[heap]`);
 * - `other anon`: every other anonymous mapping (V8's heap pages, thread stacks, large mallocs);
 * - `files`: mapped files (the node binary, shared libraries, SQLite's `-shm`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** glibc's HEAP_MAX_SIZE on 64-bit: every non-main arena heap is mapped at a multiple of it. */
const ARENA_HEAP_BYTES = 64 * 1024 * 1024;

/** RSS in KiB by kind, for one smaps file. */
export function summarise(text: string): Record<'arenas' | 'brk' | 'otherAnon' | 'files', number> {
  const sums = { arenas: 0, brk: 0, otherAnon: 0, files: 0 };
  let kind: keyof typeof sums = 'files';
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null) {
      const start = Number.parseInt(header[1] as string, 16);
      const name = header[2] as string;
      if (name === '[heap]') kind = 'brk';
      else if (name !== '' && !name.startsWith('[anon')) kind = 'files';
      else kind = start % ARENA_HEAP_BYTES === 0 ? 'arenas' : 'otherAnon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) sums[kind] += Number(rss[1]);
  }
  return sums;
}

const mb = (kib: number): string => (kib / 1024).toFixed(1);
for (const file of process.argv.slice(2)) {
  const s = summarise(readFileSync(file, 'utf8'));
  const total = s.arenas + s.brk + s.otherAnon + s.files;
  console.log(
    `${path.basename(file)}: RSS ${mb(total)} MB = arenas ${mb(s.arenas)} + brk ${mb(s.brk)} + other anon ${mb(s.otherAnon)} + files ${mb(s.files)}`,
  );
}
