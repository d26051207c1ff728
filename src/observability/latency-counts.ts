/**
 * Latency histograms as the server's hooks count them (./metrics.ts): plain bucket counts in
 * milliseconds, read into prom-client histograms only when `/metrics` is scraped
 * (./scraped-metrics.ts). No prom-client here, so counting starts before prom-client is loaded.
 */

/**
 * Upper bounds of the latency histogram buckets, seconds: 10 us to 10 s (an IAMAT takes a few
 * microseconds, a WHATSAT against a remote places source up to its time-out).
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
];

/** Bucket counts of one latency series, kept in milliseconds so a hook needs no division. */
export class LatencyCounts {
  /** `counts[i]` observations with `bounds[i-1] < ms <= bounds[i]`; the last slot is above every bound. */
  readonly counts: Float64Array;
  sumMs = 0;
  count = 0;

  constructor(private readonly boundsMs: Float64Array) {
    this.counts = new Float64Array(boundsMs.length + 1);
  }

  observe(ms: number): void {
    const bounds = this.boundsMs;
    let i = 0;
    // Linear: most observations fall in the first few buckets.
    while (i < bounds.length && ms > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sumMs += ms;
    this.count++;
  }
}
