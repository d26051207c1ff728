/**
 * Settings of the metrics shared with their readers, in a module without imports, so that `herd
 * status` reads them without loading prom-client.
 */

/**
 * The period counted in every sample of `nodejs_eventloop_lag_*_seconds`, ms: prom-client's sampling
 * period for Node's monitor, which counts it in every sample. ./loop-delay.ts samples without a timer
 * and adds it too, so a loop with no delay reads about this much, as before; `herd status` subtracts it.
 */
export const LOOP_DELAY_RESOLUTION_MS = 10;

/**
 * The longest the event loop may be blocked, ms: nothing a server does may keep it from answering for
 * longer (docs/operations.md "Event-loop blocks"). A turn busier than this counts in
 * `herd_event_loop_blocks_total` and is logged (`loop-blocked`); a start-up's `startup-delay` over it is
 * a warning; the big client and link reads of one turn stop at half of it (src/core/read-slices.ts).
 */
export const LOOP_BLOCK_MS = 20;

/**
 * The `Content-Type` of `/metrics`: the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), as prom-client's registry names it.
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
