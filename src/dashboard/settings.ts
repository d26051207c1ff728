import { withDefaults } from '../core/settings.js';

/**
 * Every bound and interval of the dashboard (docs/observability.md "Dashboard"), in one place. The herd config's `dashboard`
 * section overrides any of them (src/config/herd-config.ts); docs/operations.md lists them in its
 * limits table.
 */

/** The dashboard's bounds and intervals. */
export interface DashboardSettings {
  /**
   * Open `/events` streams per server. One more is answered 503 (`dashboard-stream-refused` in the
   * log).
   */
  readonly maxStreams: number;
  /**
   * Bytes a stream may have written but not yet sent to its page (Node's `writableLength`, above
   * what the kernel's socket buffers hold). A write that would take a stream past this drops the
   * stream instead (`dashboard-stream-dropped`), so a page that does not read holds at most this
   * much server memory.
   */
  readonly maxStreamUnwrittenBytes: number;
  /**
   * How often each stream is sent what happened, ms: the check-ins since the last flush (latest
   * location per client) and link changes. At 250 ms a page gets at most 4 `checkin`, 4 `link` and
   * one `server` event every `serverIntervalMs`: under 10 messages a second.
   */
  readonly flushIntervalMs: number;
  /** Most check-ins in one `checkin` event; the rest are counted in its `more` field. */
  readonly maxCheckinsPerFlush: number;
  /**
   * Most stored records noted between two flushes (a fixed buffer, filled by the `stored` hook); the
   * rest are only counted (`more`), and the page re-reads its snapshot.
   */
  readonly maxBufferedCheckins: number;
  /** Interval of the `: heartbeat` comment on each stream, ms (keeps proxies and the page's watchdog happy). */
  readonly heartbeatIntervalMs: number;
  /**
   * How often, while a page is open, the server reads every herd member's `/status`
   * for the topology panel and sends a `server` event, ms.
   */
  readonly serverIntervalMs: number;
  /** Longest wait for one member's `/status` or `/metrics`, ms; then it counts as down. */
  readonly pollTimeoutMs: number;
  /** Most points in one `/clients` answer; above it the answer is a density grid. */
  readonly maxSnapshotPoints: number;
  /** Most cells of a `/clients` density grid. */
  readonly maxSnapshotCells: number;
  /**
   * Longest the `/clients` scan runs before it yields to the event loop, ms (it resumes on the next
   * turn; a scan of 1M clients takes several such slices).
   */
  readonly snapshotSliceMs: number;
  /** `/clients` requests waiting for the next scan; one more is answered 503. */
  readonly maxSnapshotRequests: number;
  /** Client-view places look-ups (`/client`) in flight; one more is answered 503. */
  readonly maxLookupsInFlight: number;
  /**
   * Host names (the request's `Host` header, without port) the dashboard answers besides IP
   * addresses and `localhost`. A request naming another host is answered 421: a web page that
   * rebinds its own name to 127.0.0.1 (DNS rebinding) cannot read client locations.
   */
  readonly allowedHosts: readonly string[];
}

/** The defaults. */
export const DEFAULT_DASHBOARD_SETTINGS: Readonly<DashboardSettings> = Object.freeze({
  maxStreams: 16,
  maxStreamUnwrittenBytes: 1_048_576,
  flushIntervalMs: 250,
  maxCheckinsPerFlush: 500,
  maxBufferedCheckins: 20_000,
  heartbeatIntervalMs: 15_000,
  serverIntervalMs: 2000,
  pollTimeoutMs: 1000,
  maxSnapshotPoints: 5000,
  maxSnapshotCells: 32_768,
  snapshotSliceMs: 5,
  maxSnapshotRequests: 32,
  maxLookupsInFlight: 4,
  allowedHosts: Object.freeze([]),
});

/** The settings with every field left out taken from {@link DEFAULT_DASHBOARD_SETTINGS}. */
export function resolveDashboardSettings(overrides: Partial<DashboardSettings> = {}): Readonly<DashboardSettings> {
  return withDefaults(DEFAULT_DASHBOARD_SETTINGS, overrides);
}
