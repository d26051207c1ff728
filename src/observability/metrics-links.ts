/**
 * The metrics of the links (docs/observability.md "Metrics"): floods, link states, queues, the
 * failure detector and anti-entropy, per neighbour. Filled at scrape time from {@link ServerCounts}
 * and the server's `/status` (./metrics.ts says why).
 */
import type { Registry } from 'prom-client';
import { LINK_STATES } from '../core/status.js';
import type { ServerCounts, StatusSnapshot } from './metric-counts.js';
import { scrapedMetricsOf } from './scraped-metrics.js';

/** Registers the link metrics in `registry`, read from `counts` and `status`. */
export function defineLinkMetrics(registry: Registry, counts: ServerCounts, status: StatusSnapshot): void {
  const { counter, gauge } = scrapedMetricsOf(registry);
  counter(
    'herd_flood_sent_total',
    'Lines written to the neighbour over the outgoing link (AT floods, and anti-entropy lines).',
    ['peer'],
    (set) => {
      for (const peer of counts.peerNames(status())) set({ peer }, counts.peers.get(peer)?.floodSent ?? 0);
    },
  );
  counter(
    'herd_flood_sent_bytes_total',
    'Bytes of the lines in herd_flood_sent_total, with their LFs (what the spreading of updates costs the links).',
    ['peer'],
    (set) => {
      for (const peer of counts.peerNames(status())) set({ peer }, counts.peers.get(peer)?.floodSentBytes ?? 0);
    },
  );
  counter(
    'herd_flood_received_total',
    'AT updates received from the neighbour, by result: stored (newer) or stale (ignored).',
    ['peer', 'result'],
    (set) => {
      for (const peer of counts.peerNames(status())) {
        set({ peer, result: 'stored' }, counts.peers.get(peer)?.floodStored ?? 0);
        set({ peer, result: 'stale' }, counts.peers.get(peer)?.floodStale ?? 0);
      }
    },
  );
  gauge(
    'herd_link_state',
    'State of the outgoing link to each neighbour: 1 for the current state, 0 for the others.',
    ['peer', 'state'],
    (set) => {
      const snapshot = status();
      const current = new Map<string, string>(
        counts.peerNames(snapshot).map((peer) => [peer, counts.peers.get(peer)?.state ?? 'idle']),
      );
      for (const link of snapshot?.links ?? []) current.set(link.peer, link.status);
      for (const [peer, state] of current)
        for (const each of LINK_STATES) set({ peer, state: each }, each === state ? 1 : 0);
    },
  );
  counter(
    'herd_link_reconnects_total',
    'Times the outgoing link to the neighbour came up again after its first time up.',
    ['peer'],
    (set) => {
      for (const peer of counts.peerNames(status())) set({ peer }, Math.max(0, (counts.peers.get(peer)?.ups ?? 0) - 1));
    },
  );
  gauge('herd_link_queued_updates', 'Lines waiting to be written to the neighbour.', ['peer'], (set) => {
    for (const link of status()?.links ?? []) set({ peer: link.peer }, link.queued);
  });
  counter(
    'herd_link_dropped_updates_total',
    'Lines dropped at the queue bound while the neighbour was unreachable (anti-entropy repairs them).',
    ['peer'],
    (set) => {
      for (const link of status()?.links ?? []) set({ peer: link.peer }, link.dropped);
    },
  );
  counter(
    'herd_link_timeouts_total',
    'Link connections the failure detector closed after peer.deadAfterMs without a byte received, by side: out (our link to the neighbour) or in (its link to us).',
    ['peer', 'link'],
    (set) => {
      for (const row of status()?.links ?? []) {
        set({ peer: row.peer, link: 'out' }, row.timeouts);
        set({ peer: row.peer, link: 'in' }, row.inboundTimeouts);
      }
    },
  );
  counter(
    'herd_anti_entropy_exchanges_total',
    'Anti-entropy exchanges completed as the offering side: the neighbour said what it was missing and this server sent it (possibly nothing).',
    ['peer'],
    (set) => {
      for (const peer of counts.peerNames(status())) set({ peer }, counts.peers.get(peer)?.antiEntropyExchanges ?? 0);
    },
  );
  counter('herd_anti_entropy_records_total', 'Records sent to the neighbour by anti-entropy.', ['peer'], (set) => {
    for (const peer of counts.peerNames(status())) set({ peer }, counts.peers.get(peer)?.antiEntropyRecords ?? 0);
  });
}
