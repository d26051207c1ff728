/**
 * A herd with the bench's observer linked to every server: started by the bench (`herd start` on a
 * temporary config whose extra external member is the observer's listener), or the `--config` herd
 * when it has an external member linked to every server (the bench then listens at its address).
 * Used by the herd ingest, memory and catch-up scenarios.
 */
import type { BenchContext } from '../bench-context.js';
import { BenchError, ScenarioSkipped } from '../bench-error.js';
import {
  BENCH_SECRET,
  benchDir,
  startHerdProcess,
  stopHerd,
  writeBenchConfig,
  type BenchConfigOptions,
  type HerdHandle,
} from '../bench-processes.js';
import type { LoadTarget } from '../load-client.js';
import { HerdObserver, OBSERVER_NAME } from '../observer.js';
import { iamatWriter, type RequestWriter } from '../request-writers.js';
import { runLoad } from '../load-client.js';

/** Longest wait for every server to link to the observer, ms. */
export const LINK_TIMEOUT_MS = 20_000;

/** A herd under observation. */
export interface ObservedHerd {
  readonly observer: HerdObserver;
  /** The servers, in config order. */
  readonly servers: readonly (LoadTarget & { readonly name: string })[];
  /** Set when the bench started the herd. */
  readonly herd: HerdHandle | undefined;
  /** The folder of the config, logs and data (bench-started herds only). */
  readonly dir: string | undefined;
  /** Stops what the bench started and removes its folder. */
  close(): Promise<void>;
}

/** Options of {@link startObservedHerd}. */
export interface ObservedHerdOptions {
  /** Node flags for the server processes (e.g. the memory probe). */
  readonly nodeArgs?: readonly string[];
  /** Extra `herd start` arguments. */
  readonly startArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly store?: BenchConfigOptions['store'];
  /** Log level of the servers. @default the run's */
  readonly logLevel?: BenchConfigOptions['logLevel'];
}

/**
 * Starts (or, with `--config`, joins) a herd with the observer linked to every server, and waits
 * until every server has greeted the observer.
 *
 * @throws {ScenarioSkipped} when a `--config` herd has no external member linked to every server.
 * @throws {BenchError} when a server does not link in time.
 */
export async function startObservedHerd(
  context: BenchContext,
  options: ObservedHerdOptions = {},
): Promise<ObservedHerd> {
  const target = context.target;
  if (target !== undefined) {
    if (target.observer === undefined) {
      throw new ScenarioSkipped(
        `${target.configFile} has no external server linked to every server; add one (e.g. {"name": "${OBSERVER_NAME}", "host": "127.0.0.1", "port": 12099, "external": true} and a link to it from each server; the bench listens on its peer port, 22099) so the bench can observe propagation`,
      );
    }
    const observer = await HerdObserver.listen({
      host: target.observer.host,
      port: target.observer.port,
      name: target.observer.name,
      secret: target.secret,
    });
    const observed: ObservedHerd = {
      observer,
      servers: target.servers,
      herd: undefined,
      dir: undefined,
      close: () => observer.close(),
    };
    try {
      await waitForLinks(context, observed);
    } catch (error) {
      await observer.close();
      throw error;
    }
    return observed;
  }
  const observer = await HerdObserver.listen({ secret: Buffer.from(BENCH_SECRET, 'utf8') });
  const { dir, cleanup } = await benchDir();
  let herd: HerdHandle | undefined;
  const close = async (): Promise<void> => {
    if (herd !== undefined) await stopHerd(herd);
    await observer.close();
    await cleanup();
  };
  try {
    const configFile = await writeBenchConfig(dir, {
      logLevel: options.logLevel ?? context.logLevel,
      observer: { name: observer.name, port: observer.port },
      store: options.store,
    });
    herd = await startHerdProcess(configFile, {
      nodeArgs: [...context.serverNodeArgs, ...(options.nodeArgs ?? [])],
      args: options.startArgs,
      env: options.env,
    });
    const observed: ObservedHerd = { observer, servers: herd.members, herd, dir, close };
    await waitForLinks(context, observed);
    return observed;
  } catch (error) {
    await close();
    throw error;
  }
}

async function waitForLinks(context: BenchContext, observed: ObservedHerd): Promise<void> {
  const deadline = performance.now() + LINK_TIMEOUT_MS;
  while (observed.servers.some((server) => !observed.observer.servers.has(server.name))) {
    if (performance.now() > deadline) {
      const missing = observed.servers
        .filter((server) => !observed.observer.servers.has(server.name))
        .map((server) => server.name);
      throw new BenchError(`${missing.join(', ')} did not link to the observer within ${LINK_TIMEOUT_MS} ms`);
    }
    context.progress.update(`waiting for ${observed.servers.length} servers to link to the observer`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Sends `count` IAMATs for new clients (`<prefix><firstTag>` ...) spread over every server, pipelined
 * (W=`window` per connection, two connections per server), and waits until every server has sent
 * the observer as many AT lines as `expectedPerServer` says (every server stored every update).
 *
 * @returns ms from the first IAMAT to the last arrival.
 * @throws {BenchError} when the herd does not converge within `timeoutMs`.
 */
export async function ingestAndConverge(
  context: BenchContext,
  observed: ObservedHerd,
  options: {
    label: string;
    prefix: string;
    firstTag: number;
    count: number;
    window: number;
    expectedPerServer: (name: string) => number;
    timeoutMs: number;
    /** Locations taken in turn (ISO 6709). @default UCLA for every client */
    locations?: readonly string[];
  },
): Promise<number> {
  const writer: RequestWriter = iamatWriter({ prefix: options.prefix, locations: options.locations });
  const started = performance.now();
  const arrived = (): number =>
    observed.servers.reduce(
      (sum, server) =>
        sum + Math.min(observed.observer.atLinesFrom(server.name), options.expectedPerServer(server.name)),
      0,
    );
  const expected = observed.servers.reduce((sum, server) => sum + options.expectedPerServer(server.name), 0);
  const show = (replies: number): void => {
    const elapsed = (performance.now() - started) / 1000;
    context.progress.update(
      `${options.label}: ${replies.toLocaleString('en-US')}/${options.count.toLocaleString('en-US')} IAMATs acknowledged, ${((arrived() * 100) / expected).toFixed(1)}% stored everywhere, ${Math.round(replies / Math.max(elapsed, 0.001)).toLocaleString('en-US')}/s`,
    );
  };
  await runLoad({
    targets: observed.servers,
    connections: observed.servers.length * 2,
    window: options.window,
    writer,
    requests: options.count,
    firstTag: options.firstTag,
    onProgress: show,
    drainTimeoutMs: options.timeoutMs,
  });
  const deadline = performance.now() + options.timeoutMs;
  while (arrived() < expected) {
    if (performance.now() > deadline) {
      const behind = observed.servers
        .filter((server) => observed.observer.atLinesFrom(server.name) < options.expectedPerServer(server.name))
        .map(
          (server) =>
            `${server.name} ${observed.observer.atLinesFrom(server.name)}/${options.expectedPerServer(server.name)}`,
        );
      throw new BenchError(
        `${options.label}: the herd did not converge within ${options.timeoutMs} ms (${behind.join(', ')})`,
      );
    }
    show(options.count);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now() - started;
}
