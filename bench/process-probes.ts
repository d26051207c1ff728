/**
 * What the bench reads of a running process from outside: its resident set (`/proc/<pid>/status`),
 * its heap through the memory probe (./memory-probe.mjs, files in the folder PROBE_DIR_ENV names), the kernel's
 * byte counts of its TCP sockets (`ss`), and which process listens on a port. Re-exported by
 * ./bench-processes.ts.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { BenchError } from './bench-error.js';
import { sleep } from './bench-processes.js';

/** A process's resident set size from `/proc/<pid>/status` (VmRSS), bytes; undefined if unreadable. */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * `process.memoryUsage()` of a server, after two full garbage collections (unless the probe was
 * told not to collect), and its `process.cpuUsage()` just before, as the probe wrote them.
 */
export interface ProbedMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** The resident part of `heapTotal` (v8.getHeapStatistics()'s `total_physical_size`). */
  readonly heapPhysical: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** User CPU time of the whole process since it started, microseconds. */
  readonly cpuUserUs: number;
  /** System CPU time of the whole process since it started, microseconds. */
  readonly cpuSystemUs: number;
}

/**
 * Asks a server started with {@link memoryProbeNodeArgs} (and {@link PROBE_DIR_ENV} = `probeDir`) for
 * its memory: sends SIGUSR2 and waits for `<probeDir>/<pid>.json`.
 *
 * @throws {BenchError} when no answer comes within `timeoutMs`.
 */
export async function probeMemory(pid: number, probeDir: string, timeoutMs = 20_000): Promise<ProbedMemory> {
  const file = path.join(probeDir, `${pid}.json`);
  await rm(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const text = await readFile(file, 'utf8');
      if (text.endsWith('\n')) return JSON.parse(text) as ProbedMemory;
    } catch {
      // Not written yet.
    }
    if (Date.now() > deadline)
      throw new BenchError(
        `server ${pid} did not report its memory within ${timeoutMs} ms (started without the memory probe?)`,
      );
    await sleep(50);
  }
}

/**
 * CPU time of one thread so far, ns: the first field of `/proc/<pid>/task/<tid>/schedstat` (time on
 * a CPU; the kernel's Documentation/scheduler/sched-stats.rst). @throws when the thread is gone.
 */
export function threadCpuNs(pid: number, tid: number | string): number {
  return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
}

/** CPU time of every thread of `pid` so far, ns (`/proc/<pid>/task/<tid>/schedstat`); a thread that ended is not counted. */
export async function threadsCpuNs(pid: number): Promise<number> {
  const { main, other } = mainAndOtherCpuNs(pid);
  return main + other;
}

/**
 * CPU time so far of `pid`'s main thread and of its other threads (V8's, libuv's pool, the store's
 * writer), ns, read from outside (`/proc/<pid>/task/<tid>/schedstat`); a thread that ended is not
 * counted. @throws when `pid` is gone (its task folder cannot be listed).
 */
export function mainAndOtherCpuNs(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = threadCpuNs(pid, tid);
      if (Number(tid) === pid) main += ns;
      else other += ns;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { main, other };
}

/** How {@link whenQuiet} tells a process at rest. */
export interface QuietOptions {
  /** Length of one window, ms. @default 100 */
  readonly windowMs?: number;
  /** Most CPU a quiet window may hold, as a share of one core. @default 0.02 */
  readonly maxShare?: number;
  /** Quiet windows in a row needed (one longer than the store's 50 ms commit interval). @default 2 */
  readonly windows?: number;
  /** @default 60_000 ms */
  readonly timeoutMs?: number;
}

/**
 * Resolves once `pid` (all its threads) has used less than `maxShare` of a core in each of `windows`
 * consecutive windows: the work a burst left behind (the durable store's commits on the writer
 * thread, a flush of the log) is done, so a CPU reading taken then charges it to that burst and not
 * to the next figure (docs/benchmarks.md "Cost per operation").
 *
 * @throws {BenchError} when the process is not quiet within `timeoutMs`.
 */
export async function whenQuiet(pid: number, options: QuietOptions = {}): Promise<void> {
  const windowMs = options.windowMs ?? 100;
  const maxNs = (options.maxShare ?? 0.02) * windowMs * 1e6;
  const needed = options.windows ?? 2;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let quiet = 0;
  let before = await threadsCpuNs(pid);
  while (quiet < needed) {
    if (Date.now() > deadline) throw new BenchError(`process ${pid} did not come to rest within the time-out`);
    await sleep(windowMs);
    const now = await threadsCpuNs(pid);
    // A thread that ended takes its time out of the sum: not counted as quiet.
    quiet = now >= before && now - before < maxNs ? quiet + 1 : 0;
    before = now;
  }
}

/** Bytes a process's TCP sockets sent and received (kernel counters, `ss -tinp`), per local/remote port. */
export interface SocketBytes {
  readonly localPort: number;
  readonly remotePort: number;
  readonly sent: number;
  readonly received: number;
  /** TCP segments sent and received (`segs_out`, `segs_in`), ACKs included. */
  readonly segmentsOut: number;
  readonly segmentsIn: number;
}

/**
 * The established TCP sockets of `pid` with their byte counts, from `ss -tinpH` (iproute2). The
 * counts are the kernel's, for the life of each socket.
 *
 * @returns an empty list when `ss` is missing or fails.
 */
export function socketBytesOf(pid: number): Promise<SocketBytes[]> {
  return new Promise((resolve) => {
    execFile('ss', ['-tinpH', 'state', 'established'], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error !== null) {
        resolve([]);
        return;
      }
      const out: SocketBytes[] = [];
      const lines = stdout.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const head = lines[i] as string;
        if (!head.includes(`pid=${pid},`)) continue;
        // `Recv-Q Send-Q Local:Port Peer:Port users:(...)`, then a line of TCP info.
        const fields = head.trim().split(/\s+/);
        const local = fields[2] ?? '';
        const remote = fields[3] ?? '';
        const info = lines[i + 1] ?? '';
        const sent = /bytes_sent:(\d+)/.exec(info) ?? /bytes_acked:(\d+)/.exec(info);
        const received = /bytes_received:(\d+)/.exec(info);
        const segmentsOut = /segs_out:(\d+)/.exec(info);
        const segmentsIn = /segs_in:(\d+)/.exec(info);
        out.push({
          localPort: Number(local.slice(local.lastIndexOf(':') + 1)),
          remotePort: Number(remote.slice(remote.lastIndexOf(':') + 1)),
          sent: sent === null ? 0 : Number(sent[1]),
          received: received === null ? 0 : Number(received[1]),
          segmentsOut: segmentsOut === null ? 0 : Number(segmentsOut[1]),
          segmentsIn: segmentsIn === null ? 0 : Number(segmentsIn[1]),
        });
      }
      resolve(out);
    });
  });
}

/**
 * The pid of the local process listening on TCP `port` (for `--config` runs, whose servers the bench
 * did not start), from `ss -ltnpH`; undefined when not found (another user's process, or not local).
 */
export function pidListeningOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('ss', ['-ltnpH', `sport = :${port}`], (error, stdout) => {
      const match = error === null ? /pid=(\d+)/.exec(stdout) : null;
      resolve(match === null ? undefined : Number(match[1]));
    });
  });
}
