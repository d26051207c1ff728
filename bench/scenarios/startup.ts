/**
 * Scenario 6, startup (issue 5): time from process start (just before `spawn`) until the server
 * accepts a TCP connection, for one server (`herd serve`, durable store on a fresh data folder) and
 * for the whole default herd (`herd start`, until every one of the five accepts). Median of several
 * starts; always on a fresh local config, also with `--config` (startup is a property of the product,
 * not of a running herd).
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { BenchContext } from '../bench-context.js';
import { benchDir, connectOnce, startHerdProcess, startServe, stopHerd, writeBenchConfig } from '../bench-processes.js';

/** Startup figures, as `--json` reports them. */
export interface StartupResult {
  /** Median over the starts, ms. */
  readonly server_ms: number;
  readonly herd_ms: number;
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

/** Runs the startup scenario. */
export async function runStartup(context: BenchContext): Promise<StartupResult> {
  const { dir, cleanup } = await benchDir();
  try {
    const serverRuns: number[] = [];
    const serverConfig = await writeBenchConfig(path.join(dir), { servers: ['Alford'], logLevel: context.logLevel });
    for (let i = 0; i < context.sizes.serverStarts; i++) {
      context.progress.update(`startup: one server, start ${i + 1} of ${context.sizes.serverStarts}`);
      await rm(path.join(dir, 'data'), { recursive: true, force: true });
      const server = await startServe(serverConfig, 'Alford');
      try {
        await connectOnce(server);
        serverRuns.push(performance.now() - server.spawnedAtMs);
      } finally {
        await server.process.stop();
      }
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
      server_runs_ms: serverRuns.map(round),
      herd_runs_ms: herdRuns.map(round),
    };
  } finally {
    await cleanup();
  }
}
