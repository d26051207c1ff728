/** One closed-loop throughput phase (C connections, window W) and the figure it yields. */
import type { BenchContext } from '../bench-context.js';
import { runLoad, type LoadTarget, type ReplyFraming } from '../load-client.js';
import type { RequestWriter } from '../request-writers.js';

/** Requests per second and latency of one phase, as `--json` reports it. */
export interface ThroughputFigure {
  /** Replies per second in the measured time. */
  readonly rate: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  /** Connections and window. */
  readonly connections: number;
  readonly window: number;
}

/** Runs one warm-up plus measured phase and reports it; progress shows `label`. */
export async function measureThroughput(
  context: BenchContext,
  label: string,
  options: {
    targets: readonly LoadTarget[];
    window: number;
    writer: RequestWriter;
    framing?: ReplyFraming;
    firstTag?: number;
  },
): Promise<ThroughputFigure> {
  const { warmupMs, durationMs } = context.sizes;
  const started = performance.now();
  const result = await runLoad({
    targets: options.targets,
    connections: context.connections,
    window: options.window,
    writer: options.writer,
    framing: options.framing,
    warmupMs,
    durationMs,
    firstTag: options.firstTag,
    onProgress: (replies) => {
      const elapsed = performance.now() - started;
      context.progress.update(
        `${label}: ${Math.round((replies * 1000) / Math.max(1, elapsed)).toLocaleString('en-US')}/s, ${Math.min(100, Math.round((elapsed * 100) / (warmupMs + durationMs)))}%`,
      );
    },
  });
  return {
    rate: Math.round(result.rate),
    p50_ms: result.latency.p50_ms,
    p99_ms: result.latency.p99_ms,
    p999_ms: result.latency.p999_ms,
    connections: context.connections,
    window: options.window,
  };
}
