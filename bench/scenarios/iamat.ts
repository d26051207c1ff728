/**
 * Scenario 2, iamat: one `herd serve` process, no peers, product defaults (durable store
 * with group commit, `logLevel` as the run says), C connections sending IAMATs for 10,000 clients,
 * each with a later time than its last, so every IAMAT takes the full path: parse, store, persist,
 * reply, log. Scenario `iamat-sync`: the same with `store.sync: true` (the reply waits for the commit).
 */
import type { BenchContext } from '../bench-context.js';
import { BenchError, ScenarioSkipped } from '../bench-error.js';
import { benchDir, startServe, whenPlacesReady, writeBenchConfig } from '../bench-processes.js';
import type { LoadTarget } from '../load-client.js';
import { iamatWriter } from '../request-writers.js';
import { measureThroughput, type ThroughputFigure } from './throughput.js';

/** IAMAT/s and latency at W=1 and W=16. */
export interface IamatResult {
  readonly w1: ThroughputFigure;
  readonly w16: ThroughputFigure;
  /** Neighbours the measured server floods to (0 when the bench started it). */
  readonly neighbours: number;
}

async function measure(
  context: BenchContext,
  label: string,
  target: LoadTarget,
  neighbours: number,
): Promise<IamatResult> {
  await whenPlacesReady([target]);
  // Each phase its own client ids: a later phase never meets a stale-time client of an earlier one.
  const w1 = await measureThroughput(context, `${label} W=1`, {
    targets: [target],
    window: 1,
    writer: iamatWriter({ prefix: 'iamat-a', clients: 10_000 }),
  });
  const w16 = await measureThroughput(context, `${label} W=16`, {
    targets: [target],
    window: 16,
    writer: iamatWriter({ prefix: 'iamat-b', clients: 10_000 }),
  });
  return { w1, w16, neighbours };
}

/**
 * Runs the iamat scenario on a server the bench starts, or on the first server of `--config`.
 *
 * @param sync - start the server with `store.sync: true`.
 * @throws {ScenarioSkipped} for `sync` with `--config`.
 */
export async function runIamat(context: BenchContext, sync = false): Promise<IamatResult> {
  const label = sync ? 'iamat (sync)' : 'iamat';
  const target = context.target;
  if (target !== undefined) {
    // A running herd's store settings are its own.
    if (sync)
      throw new ScenarioSkipped('iamat-sync needs a server the bench starts with store.sync: true (not with --config)');
    const server = target.servers[0];
    if (server === undefined) throw new BenchError(`${target.configFile} has no server to load`);
    const neighbours = target.config.links.filter(([a, b]) => a === server.name || b === server.name).length;
    return measure(context, label, server, neighbours);
  }
  const { dir, cleanup } = await benchDir();
  try {
    const configFile = await writeBenchConfig(dir, {
      servers: ['Alford'],
      logLevel: context.logLevel,
      store: sync ? { sync: true } : undefined,
    });
    const server = await startServe(configFile, 'Alford', { nodeArgs: context.serverNodeArgs });
    try {
      return await measure(context, label, server, 0);
    } finally {
      await server.process.stop();
    }
  } finally {
    await cleanup();
  }
}
