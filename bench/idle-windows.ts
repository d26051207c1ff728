/**
 * An idle herd's CPU over several windows (docs/benchmarks.md "An idle server's CPU (2026-12-03)"):
 * the shipped five-server herd started as the cost scenario starts it (the memory probe preloaded,
 * the same environment), given SETTLE seconds, then WINDOWS windows of SECONDS each, the same for
 * every member. Each member's CPU is read from outside, `/proc/<pid>/task/*\/schedstat`, and split
 * into the main thread and the others (V8's platform threads, libuv's pool, the store's writer);
 * nothing runs in the servers to answer. Not a scenario of `npm run bench`: a tool to run by hand,
 * beside `bench/thread-cpu.ts`.
 *
 *     node --import tsx bench/idle-windows.ts [settle s] [window s] [windows] [probe]
 *
 * With `probe` (`1`), each window is also read the cost scenario's former way, by the memory probe's
 * `process.cpuUsage()` at both ends, to show what that reading adds (defaults: 60, 30, 3, 0).
 */
import {
  PROBE_DIR_ENV,
  benchDir,
  benchEnv,
  mainAndOtherCpuNs,
  memoryProbeNodeArgs,
  probeMemory,
  sleep,
  startHerdProcess,
  writeBenchConfig,
} from './bench-processes.js';

const [settle = '60', seconds = '30', windows = '3', withProbe = '0'] = process.argv.slice(2);
const probe = withProbe === '1';
const { dir, cleanup } = await benchDir();
const env = benchEnv({ [PROBE_DIR_ENV]: dir, HERD_BENCH_PROBE_GC: '0' });
const herd = await startHerdProcess(await writeBenchConfig(dir, { logLevel: 'info' }), {
  nodeArgs: memoryProbeNodeArgs(),
  env,
});
const probedUs = async (pid: number): Promise<number> => {
  const probed = await probeMemory(pid, dir);
  return probed.cpuUserUs + probed.cpuSystemUs;
};
try {
  const members = herd.members.map((member) => `${member.name} ${member.pid}`).join(', ');
  process.stdout.write(`idle herd: ${members}; settling ${settle} s, then ${windows} windows of ${seconds} s\n`);
  await sleep(Number(settle) * 1000);
  for (let window = 1; window <= Number(windows); window++) {
    const started = performance.now();
    const before = herd.members.map((member) => mainAndOtherCpuNs(member.pid));
    const probedBefore = probe ? await Promise.all(herd.members.map((member) => probedUs(member.pid))) : [];
    await sleep(Number(seconds) * 1000);
    const probedAfter = probe ? await Promise.all(herd.members.map((member) => probedUs(member.pid))) : [];
    const after = herd.members.map((member) => mainAndOtherCpuNs(member.pid));
    const wallNs = (performance.now() - started) * 1e6;
    const percent = (ns: number): string => ((ns / wallNs) * 100).toFixed(3);
    const rows = herd.members.map((member, i) => {
      const main = (after[i]?.main ?? 0) - (before[i]?.main ?? 0);
      const other = (after[i]?.other ?? 0) - (before[i]?.other ?? 0);
      const probed = probe ? `, probe ${percent(((probedAfter[i] ?? 0) - (probedBefore[i] ?? 0)) * 1000)}` : '';
      return { all: main + other, text: `${member.name} ${percent(main + other)} (main ${percent(main)}${probed})` };
    });
    const all = rows.map((row) => row.all);
    const mean = all.reduce((sum, ns) => sum + ns, 0) / all.length;
    const time = new Date().toISOString().slice(11, 19);
    process.stdout.write(
      `${time} window ${window}: % of a core, mean ${percent(mean)}, most ${percent(Math.max(...all))}: ${rows.map((row) => row.text).join('; ')}\n`,
    );
  }
} finally {
  await herd.process.stop();
  await cleanup();
}
