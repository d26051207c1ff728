/**
 * Settings of the metrics shared with their readers, in a module without imports, so that `herd
 * status` reads them without loading prom-client.
 */

/**
 * Sampling period of the event-loop delay monitor behind `nodejs_eventloop_lag_*_seconds`, ms (prom-client's
 * default). Node's monitor counts this period in every sample, so an idle loop reads about this much;
 * `herd status` subtracts it.
 */
export const EVENT_LOOP_RESOLUTION_MS = 10;
