/** Latency histograms (hdr-histogram-js, microsecond resolution) and their summary in milliseconds. */
import { build, type Histogram } from 'hdr-histogram-js';

/** Longest latency a histogram tracks, µs (values above are clamped): one minute. */
export const MAX_TRACKED_LATENCY_US = 60_000_000;

/** A latency summary in milliseconds (three significant digits from the histogram). */
export interface LatencySummary {
  readonly count: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  readonly max_ms: number;
}

/** A histogram of latencies in µs, 3 significant digits, 1 µs to {@link MAX_TRACKED_LATENCY_US}. */
export function latencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKED_LATENCY_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

/** Records a latency given in ms (fractional) into a µs histogram. */
export function recordMs(histogram: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  histogram.recordValue(us < 1 ? 1 : us > MAX_TRACKED_LATENCY_US ? MAX_TRACKED_LATENCY_US : us);
}

function ms(us: number): number {
  return Math.round(us) / 1000;
}

/** p50, p99, p99.9 and max of a µs histogram, in ms; zeros when it is empty. */
export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { count: 0, p50_ms: 0, p99_ms: 0, p999_ms: 0, max_ms: 0 };
  return {
    count: histogram.totalCount,
    p50_ms: ms(histogram.getValueAtPercentile(50)),
    p99_ms: ms(histogram.getValueAtPercentile(99)),
    p999_ms: ms(histogram.getValueAtPercentile(99.9)),
    max_ms: ms(histogram.maxValue),
  };
}
