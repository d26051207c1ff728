/**
 * A preload for the server processes of bench/loop-blocks.ts (`node --import
 * bench/loop-block-probe.mjs dist/bundle/main.js start ...`; `herd start` passes its node flags on to
 * the servers it forks). In a `herd serve` process, with HERD_BENCH_BLOCKS_DIR set, a 1 ms interval
 * timer looks at the gap since its last tick: a gap over 20 ms is a turn that held the loop, written
 * as one JSON line to `$HERD_BENCH_BLOCKS_DIR/<name>-<pid>.jsonl` with the main thread's own CPU time
 * in the gap (`/proc/<pid>/task/<pid>/schedstat`), so that a process that only waited for a core on a
 * shared machine is told from one that worked. Garbage-collection pauses over 10 ms are written too
 * (`gc`: V8's kind, 1 scavenge, 4 mark-compact). HERD_BENCH_BLOCKS_MIN_MS sets the gap that is
 * written (default 20, the bound). Without HERD_BENCH_BLOCKS_DIR the preload does nothing.
 *
 * The timer wakes the process a thousand times a second: a hunting tool, never a product figure.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';

const dir = process.env.HERD_BENCH_BLOCKS_DIR;
const serve = process.argv.indexOf('serve');
if (dir !== undefined && dir !== '' && serve !== -1) {
  const minMs = Number(process.env.HERD_BENCH_BLOCKS_MIN_MS ?? 20);
  const name = process.argv[serve + 1] ?? 'server';
  const file = `${dir}/${name}-${process.pid}.jsonl`;
  const stat = `/proc/${process.pid}/task/${process.pid}/schedstat`;
  const runNs = () => Number(readFileSync(stat, 'latin1').split(' ')[0]);
  const write = (fields) => appendFileSync(file, `${JSON.stringify({ name, at: Date.now(), ...fields })}\n`);
  let last = performance.now();
  let lastRunNs = runNs();
  setInterval(() => {
    const now = performance.now();
    const run = runNs();
    const gapMs = now - last - 1;
    const cpuMs = (run - lastRunNs) / 1e6;
    last = now;
    lastRunNs = run;
    if (gapMs > minMs) write({ wallMs: Math.round(gapMs), cpuMs: Math.round(cpuMs) });
  }, 1).unref();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration > Math.min(10, minMs)) write({ gc: entry.detail?.kind, wallMs: Math.round(entry.duration) });
    }
  }).observe({ entryTypes: ['gc'] });
}
