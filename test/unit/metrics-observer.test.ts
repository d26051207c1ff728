/**
 * The metrics observer (docs/operations.md metrics) fed through its hooks, without sockets: command
 * counts and latencies, floods, links, anti-entropy, places, connections, scrapes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsObserver } from '../../src/observability/metrics.js';
import { findSample, parsePrometheusText } from '../helpers/prometheus-text.js';
import type { LinkState, ServerStatus } from '../../src/core/status.js';

/**
 * The metrics observer of server `Solo` without the default metrics, its status read from a
 * source the test controls: `links` (their other counts fixed) and `clients` (none without them).
 */
function soloMetrics(links?: { peer: string; status: string }[], clients = 0): MetricsObserver {
  const metrics = new MetricsObserver({ serverName: 'Solo', defaultMetrics: false });
  if (links !== undefined) metrics.attach(fakeStatus(links, clients));
  return metrics;
}

/** A status source the test controls. */
function fakeStatus(links: { peer: string; status: string }[], clients: number): { status(): ServerStatus } {
  return {
    status: () => ({
      name: 'Solo',
      incarnation: 'inc-1',
      uptimeMs: 1500,
      clientAddress: '127.0.0.1:12000',
      peerAddress: '127.0.0.1:22000',
      clients,
      connections: 0,
      placesSource: 'offline',
      store: { state: 'ok', pendingRows: 3, bytes: 8192 },
      links: links.map((link) => ({
        ...link,
        status: link.status as LinkState,
        queued: 2,
        dropped: 7,
        connects: 1,
        inbound: true,
        timeouts: 3,
        inboundTimeouts: 4,
      })),
    }),
  };
}

describe('MetricsObserver', () => {
  test('counts commands by kind and outcome, with a latency histogram in seconds', async () => {
    const metrics = soloMetrics();
    metrics.command('IAMAT', 'ok', 0.02);
    metrics.command('IAMAT', 'ok', 3);
    metrics.command('IAMAT', 'clock_skew', 0.01);
    metrics.command('INVALID', 'invalid', 0);
    const samples = parsePrometheusText(await metrics.metrics());
    assert.equal(findSample(samples, 'herd_commands_total', { command: 'IAMAT', outcome: 'ok', server: 'Solo' }), 2);
    assert.equal(findSample(samples, 'herd_commands_total', { command: 'IAMAT', outcome: 'clock_skew' }), 1);
    assert.equal(findSample(samples, 'herd_commands_total', { command: 'INVALID', outcome: 'invalid' }), 1);
    assert.equal(
      findSample(samples, 'herd_commands_total', { command: 'WHATSAT', outcome: 'ok' }),
      0,
      'expected series start at 0',
    );
    assert.equal(findSample(samples, 'herd_reply_latency_seconds_count', { command: 'IAMAT' }), 3);
    assert.equal(
      findSample(samples, 'herd_reply_latency_seconds_bucket', { command: 'IAMAT', le: '0.000025' }),
      2,
      '0.02 ms and 0.01 ms',
    );
    assert.equal(
      findSample(samples, 'herd_reply_latency_seconds_bucket', { command: 'IAMAT', le: '0.0025' }),
      2,
      '3 ms is above 2.5 ms',
    );
    assert.equal(findSample(samples, 'herd_reply_latency_seconds_bucket', { command: 'IAMAT', le: '0.005' }), 3);
    assert.equal(findSample(samples, 'herd_reply_latency_seconds_bucket', { command: 'IAMAT', le: '+Inf' }), 3);
    const sum = findSample(samples, 'herd_reply_latency_seconds_sum', { command: 'IAMAT' }) ?? Number.NaN;
    assert.ok(Math.abs(sum - 0.00303) < 1e-12, `sum ${sum}`);
  });

  test('counters() and load() are what the scrape of herd_commands_total{command="IAMAT"} and herd_flood_sent_total sums to', async () => {
    const metrics = soloMetrics(
      [
        { peer: 'Ball', status: 'up' },
        { peer: 'Welsh', status: 'up' },
      ],
      3,
    );
    metrics.command('IAMAT', 'ok', 1);
    metrics.command('IAMAT', 'clock_skew', 1);
    metrics.command('WHATSAT', 'ok', 1);
    metrics.flood('sent', 'Ball', 4);
    metrics.flood('sent', 'Welsh', 2);
    metrics.flood('stored', 'Ball', 9);
    assert.deepEqual(metrics.counters(), { iamat: 2, floods: 6 });
    const samples = parsePrometheusText(await metrics.metrics());
    const sum = (name: string, labels: Record<string, string> = {}): number =>
      samples
        .filter((sample) => sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v))
        .reduce((total, sample) => total + sample.value, 0);
    assert.deepEqual(metrics.counters(), {
      iamat: sum('herd_commands_total', { command: 'IAMAT' }),
      floods: sum('herd_flood_sent_total'),
    });
    // Without the default metrics there is no delay monitor: /status says 0.
    assert.deepEqual(metrics.load(), { iamat: 2, floods: 6, loopDelayP99Ms: 0 });
  });

  test('floods, link states, reconnects, anti-entropy, places, connections and status values', async () => {
    const metrics = soloMetrics(
      [
        { peer: 'Ball', status: 'backoff' },
        { peer: 'Quiet', status: 'idle' },
      ],
      42,
    );
    metrics.flood('sent', 'Ball', 5, 400);
    metrics.flood('stored', 'Ball', 1);
    metrics.flood('stale', 'Ball', 1);
    metrics.flood('stale', 'Ball', 1);
    for (const status of [
      'connecting',
      'greeting',
      'up',
      'backoff',
      'connecting',
      'greeting',
      'up',
      'backoff',
    ] as const)
      metrics.linkStatus('Ball', status);
    metrics.antiEntropy('Ball', 12);
    metrics.placesLookup('offline', 'OK', 0.5);
    metrics.placesLookup('offline', 'OK', 0.7);
    metrics.placesLookup('offline', 'UNKNOWN_ERROR', 10_000);
    metrics.connection('client', 'open');
    metrics.connection('client', 'open');
    metrics.connection('client', 'close');
    metrics.connection('peer', 'open');
    const samples = parsePrometheusText(await metrics.metrics());
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      findSample(samples, name, labels);
    assert.equal(value('herd_flood_sent_total', { peer: 'Ball' }), 5);
    assert.equal(value('herd_flood_sent_bytes_total', { peer: 'Ball' }), 400);
    assert.equal(value('herd_flood_sent_total', { peer: 'Quiet' }), 0, 'a quiet neighbour still has its series');
    assert.equal(value('herd_flood_received_total', { peer: 'Ball', result: 'stored' }), 1);
    assert.equal(value('herd_flood_received_total', { peer: 'Ball', result: 'stale' }), 2);
    // The live status wins over the hooks for the state.
    assert.equal(value('herd_link_state', { peer: 'Ball', state: 'backoff' }), 1);
    assert.equal(value('herd_link_state', { peer: 'Ball', state: 'up' }), 0);
    assert.equal(value('herd_link_state', { peer: 'Quiet', state: 'idle' }), 1);
    assert.equal(value('herd_link_reconnects_total', { peer: 'Ball' }), 1, 'two times up: one reconnect');
    assert.equal(value('herd_link_reconnects_total', { peer: 'Quiet' }), 0);
    assert.equal(value('herd_link_queued_updates', { peer: 'Ball' }), 2);
    assert.equal(value('herd_link_dropped_updates_total', { peer: 'Ball' }), 7);
    assert.equal(value('herd_link_timeouts_total', { peer: 'Ball', link: 'out' }), 3);
    assert.equal(value('herd_link_timeouts_total', { peer: 'Ball', link: 'in' }), 4);
    assert.equal(value('herd_anti_entropy_exchanges_total', { peer: 'Ball' }), 1);
    assert.equal(value('herd_anti_entropy_records_total', { peer: 'Ball' }), 12);
    assert.equal(value('herd_places_lookups_total', { source: 'offline', status: 'OK' }), 2);
    assert.equal(value('herd_places_lookups_total', { source: 'offline', status: 'UNKNOWN_ERROR' }), 1);
    assert.equal(value('herd_places_lookup_seconds_count', { source: 'offline' }), 3);
    assert.equal(value('herd_places_lookup_seconds_bucket', { source: 'offline', le: '0.001' }), 2);
    assert.equal(
      value('herd_places_lookup_seconds_bucket', { source: 'offline', le: '10' }),
      3,
      '10 s is within le="10"',
    );
    assert.equal(value('herd_connections', { kind: 'client' }), 1);
    assert.equal(value('herd_connections', { kind: 'peer' }), 1);
    // Each port counts its own connections (a link is never a client connection first).
    assert.equal(value('herd_connections_opened_total', { kind: 'client' }), 2);
    assert.equal(value('herd_connections_opened_total', { kind: 'peer' }), 1);
    assert.equal(value('herd_clients'), 42);
    assert.equal(value('herd_uptime_seconds'), 1.5);
    assert.equal(value('herd_server_info', { incarnation: 'inc-1', places_source: 'offline' }), 1);
  });

  test('a second scrape reports the same counts (counters are not reset by scraping)', async () => {
    const metrics = soloMetrics();
    metrics.command('WHATSAT', 'ok', 1);
    await metrics.metrics();
    const samples = parsePrometheusText(await metrics.metrics());
    assert.equal(findSample(samples, 'herd_commands_total', { command: 'WHATSAT', outcome: 'ok' }), 1);
    assert.equal(findSample(samples, 'herd_reply_latency_seconds_count', { command: 'WHATSAT' }), 1);
  });

  test('default metrics include the event-loop lag, in a registry of its own', async () => {
    const a = new MetricsObserver({ serverName: 'A' });
    const b = new MetricsObserver({ serverName: 'B' });
    const samples = parsePrometheusText(await a.metrics());
    assert.ok(findSample(samples, 'nodejs_eventloop_lag_p99_seconds', { server: 'A' }) !== undefined);
    assert.ok(
      findSample(parsePrometheusText(await b.metrics()), 'process_resident_memory_bytes', { server: 'B' }) !==
        undefined,
    );
    assert.match(a.contentType, /^text\/plain; version=0\.0\.4/);
  });
});
