/**
 * Scenario 5, memory: the default five-server herd takes N distinct clients (1M in a full
 * run), checked in by pipelined IAMATs spread over all servers, until every server holds all of
 * them (the observer counts each server's floods). Per server it reads, before and after:
 *
 * - RSS: `/proc/<pid>/status` VmRSS, read right after a forced full GC;
 * - heap: `process.memoryUsage().heapUsed` after two forced full GCs, from inside the server through
 *   a bench-only preload (memory-probe.ts, `--expose-gc --import`; the product is not changed).
 *
 * Bytes per client = (after - before) / N, averaged over the servers; the baseline already has the
 * places index loaded, so it is not counted. "After" is read at a quiet point: every server's log
 * file has stopped growing.
 *
 * The servers log at `warn` at most (a run at `info` gets `warn` here): this scenario measures bytes,
 * not speed, and at `info` the N check-ins write several GB of log lines, take minutes, and leave a
 * transient backlog of unwritten log lines in the heap that is not per-client memory
 * (docs/benchmarks.md, "Memory").
 */
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import {
  benchDir,
  benchEnv,
  whenPlacesReady,
  memoryProbeNodeArgs,
  pidListeningOn,
  probeMemory,
  PROBE_DIR_ENV,
  readRssBytes,
} from '../bench-processes.js';
import { ingestAndConverge, startObservedHerd } from './observed-herd.js';
import { stat } from 'node:fs/promises';
import type { HerdConfig } from '../../src/config/herd-config.js';

/** Window per connection of the memory ingest (IAMAT pipelining). */
export const MEMORY_WINDOW = 256;
/** Longest wait for the herd to converge after the ingest, ms. */
export const MEMORY_CONVERGE_TIMEOUT_MS = 240_000;
/** A server is quiet when its log file has not grown for this long, ms. */
export const QUIET_MS = 1000;
/** Longest wait for the servers to be quiet, ms. */
export const QUIET_TIMEOUT_MS = 60_000;
/** The most verbose level the memory scenario's servers log at. */
export const MEMORY_LOG_LEVEL: HerdConfig['logLevel'] = 'warn';
const VERBOSE_LEVELS: readonly HerdConfig['logLevel'][] = ['info', 'debug', 'trace'];

/** One server's memory before and after. */
export interface ServerMemory {
  readonly name: string;
  readonly rss_bytes: number;
  /** Heap used after GC; null when it could not be read (a `--config` herd's server). */
  readonly heap_used_bytes: number | null;
  readonly rss_bytes_before: number;
  readonly heap_used_bytes_before: number | null;
  /** V8 heap reserved after GC (used plus free space V8 keeps); null when not read. */
  readonly heap_total_bytes: number | null;
  readonly heap_total_bytes_before: number | null;
}

/** Memory figures, as `--json` reports them. */
export interface MemoryResult {
  readonly clients: number;
  /** Mean RSS growth per client over the servers, bytes. */
  readonly bytes_per_client: number;
  /** Mean heap growth per client over the servers, bytes; null without heap readings. */
  readonly heap_bytes_per_client: number | null;
  readonly servers: readonly ServerMemory[];
  /** Time to check in every client and have it stored on every server, ms. */
  readonly ingest_ms: number;
  /** Log level of the servers (null for a `--config` herd: its own). */
  readonly log_level: string | null;
}

/** Resolves when none of `files` has grown for {@link QUIET_MS} (or after {@link QUIET_TIMEOUT_MS}). */
async function quietLogs(files: readonly string[]): Promise<void> {
  const size = async (file: string): Promise<number> => (await stat(file).catch(() => ({ size: 0 }))).size;
  const deadline = performance.now() + QUIET_TIMEOUT_MS;
  let last = await Promise.all(files.map(size));
  let quietSince = performance.now();
  while (performance.now() - quietSince < QUIET_MS && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await Promise.all(files.map(size));
    if (now.some((bytes, i) => bytes !== last[i])) quietSince = performance.now();
    last = now;
  }
}

async function measure(
  pid: number | undefined,
  probeDir: string | undefined,
): Promise<{ rss: number; heap: number | null; heapTotal: number | null }> {
  if (pid === undefined) return { rss: 0, heap: null, heapTotal: null };
  const probed = probeDir === undefined ? undefined : await probeMemory(pid, probeDir);
  const rss = await readRssBytes(pid);
  if (rss === undefined) throw new BenchError(`cannot read /proc/${pid}/status`);
  return { rss, heap: probed?.heapUsed ?? null, heapTotal: probed?.heapTotal ?? null };
}

/** Runs the memory scenario. */
export async function runMemory(context: BenchContext): Promise<MemoryResult> {
  const clients = context.sizes.memoryClients;
  const local = context.target === undefined;
  const probe = local ? await benchDir() : undefined;
  try {
    const logLevel = VERBOSE_LEVELS.includes(context.logLevel) ? MEMORY_LOG_LEVEL : context.logLevel;
    const observed = await startObservedHerd(context, {
      logLevel,
      nodeArgs: local ? memoryProbeNodeArgs() : undefined,
      env: probe === undefined ? undefined : benchEnv({ [PROBE_DIR_ENV]: probe.dir }),
    });
    try {
      const servers = observed.servers;
      const pids = await Promise.all(
        servers.map(async (server) => ('pid' in server ? (server.pid as number) : await pidListeningOn(server.port))),
      );
      await whenPlacesReady(servers);
      // Each warm-up client reaches every server: wait for those floods so the baseline is quiet.
      const baseline = new Map(servers.map((server) => [server.name, observed.observer.atLinesFrom(server.name)]));
      const settle = performance.now() + 10_000;
      while (
        servers.some((server) => observed.observer.atLinesFrom(server.name) < servers.length) &&
        performance.now() < settle
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const server of servers) baseline.set(server.name, observed.observer.atLinesFrom(server.name));
      context.progress.update('memory: reading the baseline');
      const before = await Promise.all(pids.map((pid) => measure(pid, probe?.dir)));
      const ingestMs = await ingestAndConverge(context, observed, {
        label: `memory, ${clients.toLocaleString('en-US')} clients`,
        prefix: 'mem-',
        firstTag: 0,
        count: clients,
        window: MEMORY_WINDOW,
        expectedPerServer: (name) => (baseline.get(name) ?? 0) + clients,
        timeoutMs: MEMORY_CONVERGE_TIMEOUT_MS,
      });
      context.progress.update('memory: waiting for the servers to be quiet');
      if (observed.herd !== undefined) await quietLogs(observed.herd.members.map((member) => member.logFile));
      context.progress.update('memory: reading the servers');
      const after = await Promise.all(pids.map((pid) => measure(pid, probe?.dir)));
      const rows: ServerMemory[] = servers.map((server, i) => ({
        name: server.name,
        rss_bytes: after[i]?.rss ?? 0,
        heap_used_bytes: after[i]?.heap ?? null,
        rss_bytes_before: before[i]?.rss ?? 0,
        heap_used_bytes_before: before[i]?.heap ?? null,
        heap_total_bytes: after[i]?.heapTotal ?? null,
        heap_total_bytes_before: before[i]?.heapTotal ?? null,
      }));
      const measured = rows.filter((row) => row.rss_bytes > 0);
      const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
      const heapRows = measured.filter((row) => row.heap_used_bytes !== null && row.heap_used_bytes_before !== null);
      return {
        clients,
        bytes_per_client: Math.round(mean(measured.map((row) => (row.rss_bytes - row.rss_bytes_before) / clients))),
        heap_bytes_per_client:
          heapRows.length === 0
            ? null
            : Math.round(
                mean(
                  heapRows.map(
                    (row) => ((row.heap_used_bytes as number) - (row.heap_used_bytes_before as number)) / clients,
                  ),
                ),
              ),
        servers: rows,
        ingest_ms: Math.round(ingestMs),
        log_level: local ? logLevel : null,
      };
    } finally {
      await observed.close();
    }
  } finally {
    await probe?.cleanup();
  }
}
