/**
 * Where the tail of propagation at 1k/s comes from, a tool to run by hand (not a scenario of `npm
 * run bench`); docs/benchmarks.md "Propagation at 1k/s: where the tail comes from (2026-12-03)". It
 * runs the herd scenario's fixed-rate half (the default herd and the observer, a warm-up, then
 * 1,000 IAMATs a second for new clients over ten connections) and splits the propagation delays by
 * when each update was sent on the wall clock: in the first {@link TICK_WINDOW_MS} ms after a whole
 * second (where every server's heartbeat tick falls) or later. Each line also gives the load.
 *
 *     node --import tsx bench/propagation-phases.ts [seconds] [runs] [warm seconds]
 *     HERD_BENCH_CLI=/tmp/main/dist/bundle/main.js node --import tsx bench/propagation-phases.ts
 *
 * With warm seconds, the herd first runs that long at the fixed rate, not measured: the delays are
 * then the warm herd's, past each server's first collections (docs/benchmarks.md "Propagation at
 * 1k/s: a fresh herd and a warm one (2026-12-04, quiet box)").
 *
 * Delays are measured as the scenario measures them (bench/scenarios/herd-ingest.ts): from the
 * origin's reply read by the bench to the last server's flood read by the observer.
 */
import { loadavg } from 'node:os';
import { FULL_SIZES, type BenchContext } from './bench-context.js';
import { whenPlacesReady } from './bench-processes.js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from './latency.js';
import { runLoad } from './load-client.js';
import { Progress } from './progress.js';
import { iamatWriter } from './request-writers.js';
import { startObservedHerd } from './scenarios/observed-herd.js';

/** Updates sent this long after a whole second of the wall clock count as "at the tick", ms. */
export const TICK_WINDOW_MS = 60;
/** The rate, updates/s (the herd scenario's fixed rate). */
const RATE = 1000;
/** Most updates one run tracks. */
const MAX_UPDATES = 200_000;
const CONNECTIONS = 10;

interface Split {
  readonly all: LatencySummary;
  readonly atTick: LatencySummary;
  readonly rest: LatencySummary;
  readonly atTickCount: number;
}

async function run(seconds: number, warmSeconds: number): Promise<Split> {
  const context: BenchContext = {
    sizes: FULL_SIZES,
    quick: false,
    logLevel: 'info',
    progress: new Progress(),
    target: undefined,
    connections: CONNECTIONS,
    serverNodeArgs: [],
    scaleMemoryStore: false,
  };
  const observed = await startObservedHerd(context);
  try {
    await whenPlacesReady(observed.servers);
    const servers = observed.servers.length;
    const sentAt = new Float64Array(MAX_UPDATES);
    const replyAt = new Float64Array(MAX_UPDATES);
    const lastAt = new Float64Array(MAX_UPDATES);
    const stores = new Uint8Array(MAX_UPDATES);
    observed.observer.onAt = (_server, tag, nowMs) => {
      if (tag < 0 || tag >= MAX_UPDATES) return;
      stores[tag] = (stores[tag] as number) + 1;
      lastAt[tag] = nowMs;
    };
    const base = iamatWriter({ prefix: 'h' });
    const writer = {
      maxLineBytes: base.maxLineBytes,
      write(buffer: Buffer, offset: number, tag: number): number {
        if (tag < MAX_UPDATES) sentAt[tag] = performance.now();
        return base.write(buffer, offset, tag);
      },
    };
    const onReply = (tag: number, nowMs: number): void => {
      if (tag < MAX_UPDATES) replyAt[tag] = nowMs;
    };
    const targets = observed.servers;
    const warm = await runLoad({ targets, connections: CONNECTIONS, window: 4, writer, requests: 2000, onReply });
    const atRate = (firstTag: number, durationMs: number) =>
      runLoad({
        targets,
        connections: CONNECTIONS,
        window: 16,
        writer,
        firstTag,
        durationMs,
        ratePerSecond: RATE,
        onReply,
      });
    let first = warm.requests;
    if (warmSeconds > 0) first += (await atRate(first, warmSeconds * 1000)).requests;
    const fixed = await atRate(first, seconds * 1000);
    const end = Math.min(first + fixed.requests, MAX_UPDATES);
    const deadline = performance.now() + 60_000;
    while (stores.subarray(first, end).some((n) => n < servers) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [all, atTick, rest] = [latencyHistogram(), latencyHistogram(), latencyHistogram()];
    let atTickCount = 0;
    for (let tag = first; tag < end; tag++) {
      if (stores[tag] !== servers) continue;
      const delayMs = Math.max(0, (lastAt[tag] as number) - (replyAt[tag] as number));
      recordMs(all, delayMs);
      const phaseMs = (performance.timeOrigin + (sentAt[tag] as number)) % 1000;
      if (phaseMs < TICK_WINDOW_MS) atTickCount++;
      recordMs(phaseMs < TICK_WINDOW_MS ? atTick : rest, delayMs);
    }
    return { all: summarize(all), atTick: summarize(atTick), rest: summarize(rest), atTickCount };
  } finally {
    await observed.close();
  }
}

const seconds = Number(process.argv[2] ?? 10);
const runs = Number(process.argv[3] ?? 1);
const warmSeconds = Number(process.argv[4] ?? 0);
const ms = (summary: LatencySummary): string =>
  `${summary.p50_ms.toFixed(2)} / ${summary.p99_ms.toFixed(2)} / ${summary.p999_ms.toFixed(2)}`;
for (let i = 0; i < runs; i++) {
  const load = loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
  const startedAt = new Date().toISOString().slice(11, 19);
  const split = await run(seconds, warmSeconds);
  process.stdout.write(
    `${startedAt} load ${load}: all p50/p99/p99.9 ${ms(split.all)} ms; ` +
      `sent < ${TICK_WINDOW_MS} ms after a whole second (${split.atTickCount}) ${ms(split.atTick)}; the rest ${ms(split.rest)}\n`,
  );
}
