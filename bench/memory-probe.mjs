/**
 * A preload for server processes of the memory scenario (`node --expose-gc --import
 * bench/memory-probe.mjs dist/bundle/main.js ...`; plain JavaScript, so the servers load no TypeScript
 * loader that would add to the memory being measured; `herd start` passes its own node flags on to the
 * servers it forks). On SIGUSR2 it reads `process.cpuUsage()`, runs two full garbage collections
 * (unless HERD_BENCH_PROBE_GC=0), waits HERD_BENCH_PROBE_SETTLE_MS (default 0) and writes `process.memoryUsage()`, the resident part of the V8 heap
 * (`heapPhysical`, v8.getHeapStatistics()'s total_physical_size) and the CPU time as JSON to
 * `$HERD_BENCH_PROBE_DIR/<pid>.json`; with HERD_BENCH_PROBE_SMAPS_DIR set, it also copies
 * `/proc/self/smaps` there as `<pid>-<POSIX ms>.smaps`, beside the same JSON, at every probe (RSS by
 * mapping: glibc's malloc arenas, V8's pages, the code). The product is unchanged:
 * without the environment variable the preload does nothing.
 *
 * Why a preload: a server's heap is visible only from inside its process, and the bench must not add
 * a flag or an endpoint to the product to read it.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

const probeDir = process.env.HERD_BENCH_PROBE_DIR;
if (probeDir !== undefined && probeDir !== '') {
  // HERD_BENCH_PROBE_GC=0: report without collecting (the cost scenario must not add GC work to
  // the CPU time it measures).
  const collect = process.env.HERD_BENCH_PROBE_GC !== '0';
  // HERD_BENCH_PROBE_SETTLE_MS: how long to wait after the collections before reading, ms (V8 hands
  // the pages it freed back to the system on a background thread, a little later).
  const settleMs = Number(process.env.HERD_BENCH_PROBE_SETTLE_MS ?? 0);
  const physical = () => v8.getHeapStatistics().total_physical_size;
  process.on('SIGUSR2', () => {
    // CPU first, so the collections below count in the next interval, not this one.
    const cpu = process.cpuUsage();
    const gc = globalThis.gc;
    if (collect) {
      gc?.();
      gc?.();
    }
    if (settleMs > 0) setTimeout(() => report(cpu), settleMs);
    else report(cpu);
  });
  const report = (cpu) => {
    const usage = {
      ...process.memoryUsage(),
      heapPhysical: physical(),
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
    };
    const file = path.join(probeDir, `${process.pid}.json`);
    // Written whole then renamed, so the bench never reads half a file.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(usage)}\n`);
    renameSync(`${file}.tmp`, file);
    const smapsDir = process.env.HERD_BENCH_PROBE_SMAPS_DIR;
    if (smapsDir !== undefined && smapsDir !== '') {
      const stamp = path.join(smapsDir, `${process.pid}-${Date.now()}`);
      // Read and written, not copied: a /proc file's size is 0, so a copy would be empty.
      writeFileSync(`${stamp}.smaps`, readFileSync('/proc/self/smaps'));
      writeFileSync(`${stamp}.json`, `${JSON.stringify(usage)}\n`);
    }
  };
}
