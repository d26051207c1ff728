/**
 * Scenario 3, herd ingest: the default five-server herd, IAMATs for new clients spread
 * evenly over all servers (C connections, C/5 per server).
 *
 * - Propagation delay of one update: the time from the origin's AT reply reaching the bench until
 *   the last of the five servers has stored it, which the bench sees as that server's flood of it
 *   reaching the observer (observer.ts; docs/benchmarks.md "Propagation" for the bias).
 * - At a fixed 1k/s (open loop): propagation p50/p99 of unloaded flooding, beside its floor: bare
 *   relays on the same links (../scale-floor.ts) carrying lines as long at the same rate, each timed
 *   from the first relay's echo to its copy from the farthest relay, one hop more to the bench, as
 *   the herd's last store is (herds the bench starts; not with `--config`). Measured twice, one
 *   window after the other: the fresh herd (its first seconds under load, where each server's first
 *   collections fall; docs/benchmarks.md "Propagation at 1k/s: a fresh herd and a
 *   warm one (2026-12-04, quiet box)"), then the warm herd, which the target is for.
 * - At the maximum rate (closed loop, W=16): updates/s = updates / (first IAMAT written ... last
 *   update stored on every server), so an ingest the floods cannot keep up with does not count;
 *   the run fails unless every server ends with every update.
 */
import type { Histogram } from 'hdr-histogram-js';
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from '../latency.js';
import { runLoad, type LoadOptions, type LoadResult } from '../load-client.js';
import type { ObservedServer } from '../observer.js';
import { iamatWriter } from '../request-writers.js';
import { PROBE_DIR_ENV, benchDir, benchEnv, defaultHerdGraph, whenPlacesReady } from '../bench-processes.js';
import { AT_LINE_BYTES, runRelayFloor } from '../scale-floor.js';
import { startObservedHerd, type ObservedHerd } from './observed-herd.js';

/** Most updates one run tracks (tags above are not issued). */
export const MAX_TRACKED_UPDATES = 4_000_000;
/** Longest wait, after the load stops, for every server to hold every update, ms. */
export const CONVERGE_TIMEOUT_MS = 60_000;
/** The fixed rate of the propagation measurement, updates/s. */
export const FIXED_RATE = 1000;
/** Client id prefix of tracked updates (the observer reads the number after it). */
const PREFIX = 'h';

/** Herd ingest figures, as `--json` reports them. */
export interface HerdIngestResult {
  /** Updates/s at the maximum rate, counted until every server stored every update. */
  readonly rate: number;
  /** IAMAT replies/s during that run (the rate the servers acknowledged at). */
  readonly ack_rate: number;
  readonly propagation_p50_ms: number;
  readonly propagation_p99_ms: number;
  /** Propagation at 1k/s in the fresh herd's first window at that rate (`sizes.fixedRateMs`). */
  readonly propagation_p50_ms_at_1k: number;
  readonly propagation_p99_ms_at_1k: number;
  readonly propagation_p999_ms_at_1k: number;
  /** Propagation at 1k/s in the window after that one: the warm herd. */
  readonly warm_at_1k: LatencySummary;
  /**
   * The floor of propagation at 1k/s: bare relays on the default herd's links, far side (null with
   * `--config`, whose links the bench does not know).
   */
  readonly floor_at_1k: LatencySummary | null;
  /** Updates sent in the maximum-rate run; every one was stored on every server. */
  readonly updates: number;
  readonly servers: number;
}

/** Per update (by tag): when the origin's reply came back, how many servers stored it, when the last did. */
class PropagationTracker {
  readonly replyAtMs = new Float64Array(MAX_TRACKED_UPDATES);
  readonly completeAtMs = new Float64Array(MAX_TRACKED_UPDATES);
  readonly stores = new Uint8Array(MAX_TRACKED_UPDATES);
  completed = 0;
  private readonly servers: number;

  constructor(servers: number) {
    this.servers = servers;
  }

  reply(tag: number, nowMs: number): void {
    this.replyAtMs[tag] = nowMs;
  }

  stored(_server: ObservedServer, tag: number, nowMs: number): void {
    if (tag < 0 || tag >= MAX_TRACKED_UPDATES) return;
    const stores = (this.stores[tag] as number) + 1;
    this.stores[tag] = stores;
    if (stores === this.servers) {
      this.completeAtMs[tag] = nowMs;
      this.completed++;
    }
  }

  /** Updates `from` ... `to - 1` that are stored on every server. */
  completeIn(from: number, to: number): number {
    let n = 0;
    for (let tag = from; tag < to; tag++) if (this.stores[tag] === this.servers) n++;
    return n;
  }

  /** Propagation delays of updates `from` ... `to - 1` (all complete), and the last completion time. */
  delays(from: number, to: number): { histogram: Histogram; lastCompleteMs: number } {
    const histogram = latencyHistogram();
    let lastCompleteMs = 0;
    for (let tag = from; tag < to; tag++) {
      const complete = this.completeAtMs[tag] as number;
      // The reply and the last store are read by the same event loop; the reply may be read second.
      recordMs(histogram, Math.max(0, complete - (this.replyAtMs[tag] as number)));
      if (complete > lastCompleteMs) lastCompleteMs = complete;
    }
    return { histogram, lastCompleteMs };
  }
}

async function waitComplete(
  context: BenchContext,
  tracker: PropagationTracker,
  label: string,
  from: number,
  to: number,
): Promise<void> {
  const deadline = performance.now() + CONVERGE_TIMEOUT_MS;
  for (;;) {
    const done = tracker.completeIn(from, to);
    if (done === to - from) return;
    if (performance.now() > deadline) {
      throw new BenchError(
        `${label}: ${to - from - done} of ${to - from} updates were not stored on every server within ${CONVERGE_TIMEOUT_MS} ms`,
      );
    }
    context.progress.update(
      `${label}: waiting for propagation, ${done.toLocaleString('en-US')}/${(to - from).toLocaleString('en-US')} stored everywhere`,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The floor of propagation at {@link FIXED_RATE}: bare relays on the default herd's links, as many
 * lines as the herd's fixed-rate phase sends, at the same rate.
 */
async function floorAt1k(context: BenchContext): Promise<LatencySummary> {
  context.progress.update(`herd ingest: the floor, bare relays on the herd's links at ${FIXED_RATE}/s`);
  const { dir, cleanup } = await benchDir();
  try {
    const floor = await runRelayFloor(defaultHerdGraph(), {
      updates: Math.round((FIXED_RATE * context.sizes.fixedRateMs) / 1000),
      ratePerSecond: FIXED_RATE,
      lineBytes: AT_LINE_BYTES,
      probeDir: dir,
      env: benchEnv({ [PROBE_DIR_ENV]: dir, HERD_BENCH_PROBE_GC: '0' }),
    });
    return floor.far;
  } finally {
    await cleanup();
  }
}

/** Runs the herd ingest scenario. */
export async function runHerdIngest(context: BenchContext): Promise<HerdIngestResult> {
  const herd = await measureHerd(context);
  // After the herd has stopped, so that the relays have the cores to themselves as the herd had.
  const floor = context.target === undefined ? await floorAt1k(context) : null;
  return { ...herd, floor_at_1k: floor };
}

/** The herd's own figures: the warm-up, the fixed rate, then the maximum rate. */
async function measureHerd(context: BenchContext): Promise<Omit<HerdIngestResult, 'floor_at_1k'>> {
  const observed: ObservedHerd = await startObservedHerd(context);
  try {
    await whenPlacesReady(observed.servers);
    const servers = observed.servers.length;
    const tracker = new PropagationTracker(servers);
    observed.observer.trackedPrefix = PREFIX;
    observed.observer.onAt = (server, tag, nowMs) => tracker.stored(server, tag, nowMs);
    const writer = iamatWriter({ prefix: PREFIX });
    const connections = Math.max(servers, context.connections - (context.connections % servers));
    let nextTag = 0;
    /** A run of the load from the next tag on, at W=16 unless told. */
    const load = (options: Partial<LoadOptions>): Promise<LoadResult> =>
      runLoad({
        targets: observed.servers,
        connections,
        window: 16,
        writer,
        firstTag: nextTag,
        onReply: (tag, nowMs) => tracker.reply(tag, nowMs),
        ...options,
      });

    // Warm-up: links between the servers come up, code paths get compiled.
    const warm = await load({ window: 4, requests: Math.max(servers * 20, Math.round(context.sizes.warmupMs * 2)) });
    await waitComplete(context, tracker, 'herd warm-up', nextTag, nextTag + warm.requests);
    nextTag += warm.requests;

    // Fixed 1k/s: propagation of unloaded flooding, in the fresh herd, then in the warm one.
    const atFixedRate = async (label: string): Promise<LatencySummary> => {
      const started = performance.now();
      const fixed = await load({
        durationMs: context.sizes.fixedRateMs,
        ratePerSecond: FIXED_RATE,
        onProgress: (replies) =>
          context.progress.update(
            `herd ingest at ${FIXED_RATE}/s, ${label}: ${replies} updates, ${Math.round(((performance.now() - started) * 100) / context.sizes.fixedRateMs)}%`,
          ),
      });
      await waitComplete(
        context,
        tracker,
        `herd ingest at ${FIXED_RATE}/s, ${label}`,
        nextTag,
        nextTag + fixed.requests,
      );
      const summary = summarize(tracker.delays(nextTag, nextTag + fixed.requests).histogram);
      nextTag += fixed.requests;
      return summary;
    };
    const atFixed = await atFixedRate('fresh herd');
    const warmAtFixed = await atFixedRate('warm herd');

    // Maximum rate: closed loop, counted until the last update is stored everywhere.
    const maxStarted = performance.now();
    const max = await load({
      requests: MAX_TRACKED_UPDATES - nextTag,
      durationMs: context.sizes.durationMs,
      onProgress: (replies) => {
        const elapsed = performance.now() - maxStarted;
        context.progress.update(
          `herd ingest, max rate: ${Math.round((replies * 1000) / elapsed).toLocaleString('en-US')} IAMAT/s acknowledged, ${(tracker.completed - nextTag).toLocaleString('en-US')} stored everywhere`,
        );
      },
    });
    await waitComplete(context, tracker, 'herd ingest, max rate', nextTag, nextTag + max.requests);
    const { histogram, lastCompleteMs } = tracker.delays(nextTag, nextTag + max.requests);
    const atMax = summarize(histogram);
    return {
      rate: Math.round((max.requests * 1000) / (lastCompleteMs - max.startedMs)),
      ack_rate: Math.round(max.rate),
      propagation_p50_ms: atMax.p50_ms,
      propagation_p99_ms: atMax.p99_ms,
      propagation_p50_ms_at_1k: atFixed.p50_ms,
      propagation_p99_ms_at_1k: atFixed.p99_ms,
      propagation_p999_ms_at_1k: atFixed.p999_ms,
      warm_at_1k: warmAtFixed,
      updates: max.requests,
      servers,
    };
  } finally {
    await observed.close();
  }
}
