/**
 * Scenario `redis`: herd's IAMAT beside the engine a user would pick instead. Redis GEOADD (a
 * client's location into a geo set) by `redis-benchmark`, with Redis in memory and without an
 * append-only file, against one `herd serve` in memory (`store.durable: false`) and without command
 * logs (`logLevel: warn`), each at C connections and the same depth: W requests outstanding per
 * connection for herd, `-P` pipelined requests per connection for Redis. Runs when Debian's
 * `redis-server` and `redis-benchmark` are on the PATH; otherwise it says so and is skipped.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BenchContext } from '../bench-context.js';
import { BenchError, ScenarioSkipped } from '../bench-error.js';
import {
  BenchProcess,
  benchDir,
  restartablePort,
  startServe,
  whenPlacesReady,
  writeBenchConfig,
} from '../bench-processes.js';
import { iamatWriter } from '../request-writers.js';
import { measureThroughput } from './throughput.js';

const run = promisify(execFile);

/** The depths compared: one request at a time, and the deep pipeline. */
export const REDIS_DEPTHS = [1, 16] as const;

/** Requests of each redis-benchmark run in a full run (and in `--quick`). */
export const REDIS_REQUESTS = { full: 1_000_000, quick: 50_000 } as const;

/** Redis against herd, requests per second, as `--json` reports it under `redis`. */
export interface RedisResult {
  readonly redis_version: string;
  /** GEOADD/s by pipeline depth P. */
  readonly geoadd: Readonly<Record<string, number>>;
  /** IAMAT/s of herd in memory, without command logs, by window W. */
  readonly herd_iamat: Readonly<Record<string, number>>;
  readonly connections: number;
}

/** The path of `command`, or undefined when it is not installed. */
async function which(command: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('which', [command]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs `redis-benchmark` for GEOADD of random members at one depth; requests per second. */
async function geoaddRate(
  benchmark: string,
  port: number,
  connections: number,
  depth: number,
  requests: number,
): Promise<number> {
  const { stdout } = await run(
    benchmark,
    [
      ...['-h', '127.0.0.1', '-p', String(port), '-c', String(connections), '-P', String(depth)],
      ...['-n', String(requests), '-r', '10000', '--csv'],
      ...['GEOADD', 'herd:clients', '-118.445127', '34.068930', 'client:__rand_int__'],
    ],
    { maxBuffer: 1 << 20 },
  );
  // --csv: a header line, then `"GEOADD ...","<requests per second>",...`.
  const match = /^"GEOADD[^"]*","([\d.]+)"/m.exec(stdout);
  if (match === null) throw new BenchError(`redis: no rate in redis-benchmark's output:\n${stdout}`);
  return Math.round(Number(match[1]));
}

/** Runs the redis scenario. @throws {ScenarioSkipped} without Redis, or with `--config`. */
export async function runRedis(context: BenchContext): Promise<RedisResult> {
  if (context.target !== undefined)
    throw new ScenarioSkipped('the redis scenario starts its own servers (not with --config)');
  const server = await which('redis-server');
  const benchmark = await which('redis-benchmark');
  if (server === undefined || benchmark === undefined)
    throw new ScenarioSkipped('redis-server and redis-benchmark are not installed (apt-get install redis-server)');
  const requests = context.quick ? REDIS_REQUESTS.quick : REDIS_REQUESTS.full;
  const port = await restartablePort();
  const redis = new BenchProcess(server, [
    ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    ...['--daemonize', 'no', '--loglevel', 'notice'],
  ]);
  const geoadd: Record<string, number> = {};
  let version: string;
  try {
    await redis.waitForLine(/Ready to accept connections/);
    version = /version=([\d.]+)/.exec(redis.output.join('\n'))?.[1] ?? '';
    for (const depth of REDIS_DEPTHS) {
      context.progress.update(`redis: GEOADD at P=${depth}`);
      geoadd[`P${depth}`] = await geoaddRate(benchmark, port, context.connections, depth, requests);
    }
  } finally {
    await redis.stop();
  }
  const herd: Record<string, number> = {};
  const { dir, cleanup } = await benchDir();
  try {
    const config = await writeBenchConfig(dir, { servers: ['Alford'], logLevel: 'warn', store: { durable: false } });
    const solo = await startServe(config, 'Alford', { nodeArgs: context.serverNodeArgs });
    try {
      await whenPlacesReady([solo]);
      for (const window of REDIS_DEPTHS) {
        const figure = await measureThroughput(context, `redis: herd IAMAT in memory W=${window}`, {
          targets: [solo],
          window,
          writer: iamatWriter({ prefix: `redis-${window}-`, clients: 10_000 }),
        });
        herd[`W${window}`] = figure.rate;
      }
    } finally {
      await solo.process.stop();
    }
  } finally {
    await cleanup();
  }
  return { redis_version: version, geoadd, herd_iamat: herd, connections: context.connections };
}

/** The table rows of the redis scenario. */
export function redisRows(result: RedisResult): (readonly [string, string, string, string, string, string])[] {
  const count = (n: number): string => n.toLocaleString('en-US');
  const rows: (readonly [string, string, string, string, string, string])[] = [];
  for (const depth of REDIS_DEPTHS) {
    const redis = result.geoadd[`P${depth}`] ?? 0;
    const herd = result.herd_iamat[`W${depth}`] ?? 0;
    rows.push([
      'redis',
      `Redis ${result.redis_version} GEOADD/s, C=${result.connections} P=${depth}, in memory, no AOF`,
      count(redis),
      '',
      '1.00x redis',
      '',
    ]);
    rows.push([
      'redis',
      `herd IAMAT/s, C=${result.connections} W=${depth}, in memory, no command log`,
      count(herd),
      '',
      `${(herd / Math.max(1, redis)).toFixed(2)}x redis`,
      depth === 16 ? '>= 1x' : '',
    ]);
  }
  return rows;
}
