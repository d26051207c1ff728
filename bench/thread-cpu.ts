/**
 * Where a server's CPU goes, thread by thread, at the cost scenario's light load and when idle
 * (docs/benchmarks.md "light load and idle (issue 22: where the CPU goes, 2026-12-02)"). Not a
 * scenario of `npm run bench`: a tool to run by hand, beside `strace -f -c -p PID` and
 * `perf record -g -p PID` on the pid it prints.
 *
 *     node --import tsx bench/thread-cpu.ts light [seconds] [warm-up requests]
 *     node --import tsx bench/thread-cpu.ts echo [seconds] [warm-up requests]
 *     node --import tsx bench/thread-cpu.ts idle [seconds] [settle seconds]
 *
 * - `light`: one server as the cost scenario starts it (durable store, `info` logs, an admin port),
 *   one connection, one IAMAT at a time at {@link LIGHT_RATE_PER_SECOND}; `echo` the echo server
 *   driven the same way. Prints each thread's CPU and voluntary context switches (its sleeps, so
 *   about its wake-ups) per request, after the warm-up (default 500 requests).
 * - `idle`: the shipped herd (`herd start`), after the settle (default 60 s): each member's threads,
 *   CPU as a percentage of one core.
 *
 * CPU is read from `/proc/<pid>/task/<tid>/schedstat` (nanoseconds), so a few milliseconds show.
 * The main thread is the one whose id is the pid; the durable store's writer is a worker started
 * when the server listens; the others are V8's platform threads (compilation, GC) and libuv's pool.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  benchDir,
  benchEnv,
  sleep,
  startEchoProcess,
  startHerdProcess,
  startServe,
  whenPlacesReady,
  writeBenchConfig,
} from './bench-processes.js';
import type { LoadTarget } from './load-client.js';
import { threadCpuNs } from './process-probes.js';
import { LIGHT_RATE_PER_SECOND, sendLightLoad } from './scenarios/cost-light.js';

/** One thread's counters. */
interface ThreadSample {
  /** CPU time since the thread started, ns. */
  readonly cpuNs: number;
  /** Times the thread went to sleep of its own accord. */
  readonly sleeps: number;
}

/** Every thread of `pid` by id; a thread gone meanwhile is left out. */
function sampleThreads(pid: number): Map<number, ThreadSample> {
  const threads = new Map<number, ThreadSample>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const cpuNs = threadCpuNs(pid, tid);
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const sleeps = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      threads.set(Number(tid), { cpuNs, sleeps });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/** How {@link report} scales its figures. */
interface Scale {
  /** CPU microseconds are divided by this (requests; or the window in us / 100, for % of a core). */
  readonly cpuPer: number;
  readonly cpuUnit: string;
  /** Sleeps are divided by this (requests, or seconds). */
  readonly sleepsPer: number;
  readonly sleepsUnit: string;
}

/** The difference of two samples of `pid`'s threads, one line per thread that ran, and the total. */
function report(label: string, pid: number, before: Map<number, ThreadSample>, scale: Scale): string {
  const after = sampleThreads(pid);
  const lines: string[] = [];
  let total = 0;
  for (const [tid, now] of after) {
    const then = before.get(tid) ?? { cpuNs: 0, sleeps: 0 };
    const cpu = (now.cpuNs - then.cpuNs) / 1000 / scale.cpuPer;
    const sleeps = (now.sleeps - then.sleeps) / scale.sleepsPer;
    total += cpu;
    if (cpu === 0 && sleeps === 0) continue;
    const name = tid === pid ? 'main' : `thread ${tid}`;
    lines.push(
      `  ${name.padEnd(14)} ${cpu.toFixed(2).padStart(8)} ${scale.cpuUnit}  ${sleeps.toFixed(2).padStart(7)} ${scale.sleepsUnit}`,
    );
  }
  return [`${label}: ${total.toFixed(2)} ${scale.cpuUnit} in all threads`, ...lines].join('\n');
}

/** Drives `target` one IAMAT at a time at the light rate: `warm` requests, then `seconds` measured. */
async function lightLoad(target: LoadTarget, pid: number, label: string, seconds: number, warm: number) {
  if (warm > 0) await sendLightLoad(target, warm, `warm-${pid}-`);
  process.stdout.write(`${label}: pid ${pid}, measuring ${seconds} s\n`);
  const requests = Math.round(seconds * LIGHT_RATE_PER_SECOND);
  const before = sampleThreads(pid);
  await sendLightLoad(target, requests, `light-${pid}-`);
  const scale = { cpuPer: requests, cpuUnit: 'us CPU', sleepsPer: requests, sleepsUnit: 'sleeps' };
  process.stdout.write(`${report(`${label}, per request (${requests})`, pid, before, scale)}\n`);
}

const [mode = 'light', secondsText, extraText] = process.argv.slice(2);
const seconds = Number(secondsText ?? 10);
const { dir, cleanup } = await benchDir();
const env = benchEnv();
try {
  if (mode === 'echo') {
    const echo = await startEchoProcess({ env });
    try {
      await lightLoad(echo.target, echo.pid, 'echo server', seconds, Number(extraText ?? 500));
    } finally {
      await echo.process.stop();
    }
  } else if (mode === 'light') {
    const config = await writeBenchConfig(dir, { servers: ['Alford'], logLevel: 'info' });
    const solo = await startServe(config, 'Alford', { env });
    try {
      await whenPlacesReady([solo]);
      await lightLoad(solo, solo.pid, 'server', seconds, Number(extraText ?? 500));
    } finally {
      await solo.process.stop();
    }
  } else if (mode === 'idle') {
    const herd = await startHerdProcess(await writeBenchConfig(dir, { logLevel: 'info' }), { env });
    try {
      const pids = herd.members.map((member) => `${member.name} ${member.pid}`).join(', ');
      process.stdout.write(`idle herd: ${pids}; settling ${extraText ?? 60} s, then measuring ${seconds} s\n`);
      await sleep(Number(extraText ?? 60) * 1000);
      const before = herd.members.map((member) => sampleThreads(member.pid));
      await sleep(seconds * 1000);
      herd.members.forEach((member, i) => {
        const sample = before[i] as Map<number, ThreadSample>;
        // 1% of a core over the window is its length in us divided by 100.
        const scale = { cpuPer: seconds * 10_000, cpuUnit: '% of a core', sleepsPer: seconds, sleepsUnit: 'sleeps/s' };
        process.stdout.write(`${report(member.name, member.pid, sample, scale)}\n`);
      });
    } finally {
      await herd.process.stop();
    }
  } else {
    throw new Error(`unknown mode ${mode}: light, echo or idle`);
  }
} finally {
  await cleanup();
}
