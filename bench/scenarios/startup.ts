/**
 * Scenario 6, startup (issues 5 and "The hot path at the limit"): time from process start (just
 * before `spawn`) until the server accepts a TCP connection, for one server (`herd serve`, durable
 * store on a fresh data folder, the default place data) and for the whole default herd (`herd
 * start`, until every one of the five accepts). For one server also whether accepting means
 * answering: the time difference of an IAMAT sent the instant the port accepts (a blocked loop would
 * stamp it late), the longest event-loop block in the first 2 s after listening (the server's own
 * `startup-delay` log event), and the idle server's RSS. Median of several starts; always on a
 * fresh local config, also with `--config` (startup is a property of the product, not of a running
 * herd).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import {
  BenchProcess,
  CLI,
  benchDir,
  connectOnce,
  freeLoopbackPort,
  readRssBytes,
  sleep,
  startHerdProcess,
  stopHerd,
  writeBenchConfig,
} from '../bench-processes.js';
import { formatPosixTime } from '../../src/protocol/time.js';

/** Startup figures, as `--json` reports them. */
export interface StartupResult {
  /** Median over the starts, ms. */
  readonly server_ms: number;
  readonly herd_ms: number;
  /** Time difference of an IAMAT sent the instant the port accepted, ms (median; 0 is perfect). */
  readonly iamat_at_accept_ms: number;
  /** Longest event-loop block in the first 2 s after listening, ms (median over the starts). */
  readonly max_loop_delay_ms: number;
  /** RSS of the idle server with the default place data, 2 s after listening, bytes (median). */
  readonly idle_rss_bytes: number;
  /** Every start, ms. */
  readonly server_runs_ms: readonly number[];
  readonly herd_runs_ms: readonly number[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Connects as soon as `port` accepts, trying about every millisecond; rejects after `timeoutMs`. */
export async function connectTheInstantItAccepts(port: number, timeoutMs: number): Promise<net.Socket> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (connected) return socket;
    socket.destroy();
    if (performance.now() > deadline)
      throw new BenchError(`startup: port ${port} did not accept within ${timeoutMs} ms`);
    await sleep(1);
  }
}

/** Sends an IAMAT stamped now on `socket` and returns the server's time difference, ms. */
async function iamatNow(socket: net.Socket): Promise<number> {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const time = formatPosixTime(nowNs);
  const reply = await new Promise<string>((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.end(`IAMAT startup +34.068930-118.445127 ${time}\n`);
  });
  const difference = reply.split(' ')[2];
  if (!reply.startsWith('AT ') || difference === undefined) throw new BenchError(`startup: IAMAT got ${reply}`);
  return Number(difference) * 1000;
}

/** The `maxMs` of the server's `startup-delay` log event, once it is written. */
async function startupDelayOf(logFile: string, timeoutMs = 10_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const line = (await readFile(logFile, 'utf8').catch(() => ''))
      .split('\n')
      .find((entry) => entry.includes('"event":"startup-delay"'));
    if (line !== undefined) return (JSON.parse(line) as { maxMs: number }).maxMs;
    if (performance.now() > deadline) throw new BenchError(`startup: no startup-delay event in ${logFile}`);
    await sleep(50);
  }
}

/** One start of one server: until it accepts, the IAMAT at the accept, the first 2 s, its idle RSS. */
async function startOne(
  dir: string,
  context: BenchContext,
): Promise<{ acceptMs: number; differenceMs: number; delayMs: number; rss: number }> {
  await rm(path.join(dir, 'data'), { recursive: true, force: true });
  await rm(path.join(dir, 'logs'), { recursive: true, force: true });
  const port = await freeLoopbackPort();
  const configFile = path.join(dir, 'startup.json');
  await writeFile(
    configFile,
    JSON.stringify({
      servers: [{ name: 'Alford', host: '127.0.0.1', port, peerPort: await freeLoopbackPort() }],
      logDir: path.join(dir, 'logs'),
      dataDir: path.join(dir, 'data'),
      logLevel: context.logLevel,
    }),
  );
  const spawnedAt = performance.now();
  const child = new BenchProcess(process.execPath, [CLI, 'serve', 'Alford', '--config', configFile]);
  try {
    const socket = await connectTheInstantItAccepts(port, 30_000);
    const acceptMs = performance.now() - spawnedAt;
    const differenceMs = await iamatNow(socket);
    const delayMs = await startupDelayOf(path.join(dir, 'logs', 'Alford.log'));
    const rss = (await readRssBytes(child.pid)) ?? 0;
    return { acceptMs, differenceMs, delayMs, rss };
  } finally {
    await child.stop();
  }
}

/** Runs the startup scenario. */
export async function runStartup(context: BenchContext): Promise<StartupResult> {
  const { dir, cleanup } = await benchDir();
  try {
    const serverRuns: number[] = [];
    const differences: number[] = [];
    const delays: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < context.sizes.serverStarts; i++) {
      context.progress.update(`startup: one server, start ${i + 1} of ${context.sizes.serverStarts}`);
      const run = await startOne(dir, context);
      serverRuns.push(run.acceptMs);
      differences.push(run.differenceMs);
      delays.push(run.delayMs);
      rss.push(run.rss);
    }
    const herdRuns: number[] = [];
    const herdConfig = await writeBenchConfig(dir, { logLevel: context.logLevel });
    for (let i = 0; i < context.sizes.herdStarts; i++) {
      context.progress.update(`startup: the herd, start ${i + 1} of ${context.sizes.herdStarts}`);
      await rm(path.join(dir, 'data'), { recursive: true, force: true });
      const herd = await startHerdProcess(herdConfig);
      try {
        await Promise.all(herd.members.map((member) => connectOnce(member)));
        herdRuns.push(performance.now() - herd.spawnedAtMs);
      } finally {
        await stopHerd(herd);
      }
    }
    const round = (ms: number): number => Math.round(ms);
    return {
      server_ms: round(median(serverRuns)),
      herd_ms: round(median(herdRuns)),
      iamat_at_accept_ms: Math.round(median(differences) * 100) / 100,
      max_loop_delay_ms: Math.round(median(delays) * 100) / 100,
      idle_rss_bytes: round(median(rss)),
      server_runs_ms: serverRuns.map(round),
      herd_runs_ms: herdRuns.map(round),
    };
  } finally {
    await cleanup();
  }
}
