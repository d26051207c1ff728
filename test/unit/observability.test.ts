/**
 * Issue 5, "Watch a running herd", without sockets: the Prometheus text reader, the metrics observer
 * fed through its hooks, admin ports in the config, and the runtime file of `herd start`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILT_IN_HERDS, builtInHerdFile, loadHerdConfig, validateHerdConfig } from '../../src/config/herd-config.js';
import { ConfigError } from '../../src/errors.js';
import { MetricsObserver } from '../../src/observability/metrics.js';
import { findSample, parsePrometheusText } from '../helpers/prometheus-text.js';
import {
  readRuntimeFile,
  removeRuntimeFile,
  runtimeFilePath,
  writeRuntimeFile,
  type RuntimeFile,
} from '../../src/cli/runtime-file.js';
import { formatStatusTable, type HerdStatusReport } from '../../src/cli/status.js';
import type { LinkState, ServerStatus } from '../../src/core/status.js';

describe('parsePrometheusText', () => {
  test('reads names, labels (with escapes) and values, and skips comments', () => {
    const text = [
      '# HELP a_total A counter.',
      '# TYPE a_total counter',
      'a_total{x="1",y="with \\"quote\\", comma and \\\\ slash"} 3',
      'b 4.5e-3',
      'c{le="+Inf"} +Inf',
      'd NaN 1700000000000',
      '',
      'broken{x="1" 2',
    ].join('\n');
    const samples = parsePrometheusText(text);
    assert.deepEqual(
      samples.map((s) => [s.name, s.labels, s.value]),
      [
        ['a_total', { x: '1', y: 'with "quote", comma and \\ slash' }, 3],
        ['b', {}, 0.0045],
        ['c', { le: '+Inf' }, Number.POSITIVE_INFINITY],
        ['d', {}, Number.NaN],
      ],
    );
    assert.equal(findSample(samples, 'a_total', { x: '1' }), 3);
    assert.equal(findSample(samples, 'a_total', { x: '2' }), undefined);
  });
});

/** A status source the test controls. */
function fakeStatus(links: { peer: string; status: string }[], clients = 0): { status(): ServerStatus } {
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
    const metrics = new MetricsObserver({ serverName: 'Solo', defaultMetrics: false });
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
    const metrics = new MetricsObserver({ serverName: 'Solo', defaultMetrics: false });
    metrics.attach(
      fakeStatus(
        [
          { peer: 'Ball', status: 'up' },
          { peer: 'Welsh', status: 'up' },
        ],
        3,
      ),
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
    const metrics = new MetricsObserver({ serverName: 'Solo', defaultMetrics: false });
    metrics.attach(
      fakeStatus(
        [
          { peer: 'Ball', status: 'backoff' },
          { peer: 'Quiet', status: 'idle' },
        ],
        42,
      ),
    );
    metrics.flood('sent', 'Ball', 5);
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
    const metrics = new MetricsObserver({ serverName: 'Solo', defaultMetrics: false });
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

describe('admin ports in the config', () => {
  const base = (servers: Record<string, unknown>[]) => ({ servers, links: [] });

  test('adminPort is optional and adminHost defaults to loopback', () => {
    const config = validateHerdConfig(
      base([
        { name: 'A', port: 1000, adminPort: 0 },
        { name: 'B', port: 1001 },
      ]),
      'x.json',
    );
    assert.equal(config.servers[0]?.adminPort, 0);
    assert.equal(config.servers[0]?.adminHost, '127.0.0.1');
    assert.equal(config.servers[1]?.adminPort, undefined);
  });

  test('an admin port may not repeat a client port or another admin port', () => {
    assert.throws(
      () =>
        validateHerdConfig(
          base([
            { name: 'A', port: 1000, adminPort: 2000 },
            { name: 'B', port: 1001, adminPort: 1000 },
          ]),
          'x.json',
        ),
      (error: unknown) =>
        error instanceof ConfigError &&
        /servers\[1\]\.adminPort: 127\.0\.0\.1:1000 is also the client port of "A" \(duplicate port\)/.test(
          error.message,
        ),
    );
    assert.throws(
      () =>
        validateHerdConfig(
          base([
            { name: 'A', port: 1000, adminPort: 2000 },
            { name: 'B', port: 1001, adminPort: 2000 },
          ]),
          'x.json',
        ),
      (error: unknown) =>
        error instanceof ConfigError &&
        /servers\[1\]\.adminPort: 127\.0\.0\.1:2000 is also the admin port of "A" \(duplicate port\)/.test(
          error.message,
        ),
    );
    // Port 0 never clashes; another interface does not either.
    validateHerdConfig(
      base([
        { name: 'A', port: 1000, adminPort: 0 },
        { name: 'B', port: 1001, adminPort: 0 },
      ]),
      'x.json',
    );
    validateHerdConfig(
      base([
        { name: 'A', port: 1000, adminPort: 2000 },
        { name: 'B', port: 1001, adminPort: 2000, adminHost: '127.0.0.2' },
      ]),
      'x.json',
    );
  });

  test('an external server needs a real admin port', () => {
    assert.throws(
      () => validateHerdConfig(base([{ name: 'A', port: 1000, external: true, adminPort: 0 }]), 'x.json'),
      (error: unknown) => error instanceof ConfigError && /servers\[0\]\.adminPort/.test(error.message),
    );
  });

  test('the shipped herds have loopback admin ports 121x0-121x4, clear of every client port', () => {
    const expected: Record<string, number> = { default: 12100, '2019': 12110, '2023': 12120 };
    const clientPorts = new Set<number>();
    const adminPorts: number[] = [];
    for (const herd of BUILT_IN_HERDS) {
      const config = loadHerdConfig(builtInHerdFile(herd));
      config.servers.forEach((server, i) => {
        assert.equal(server.adminPort, (expected[herd] as number) + i, `${herd} ${server.name}`);
        assert.equal(server.adminHost, '127.0.0.1');
        clientPorts.add(server.port);
        adminPorts.push(server.adminPort);
      });
    }
    for (const port of adminPorts) assert.ok(!clientPorts.has(port), `admin port ${port} is a client port`);
    assert.equal(new Set(adminPorts).size, adminPorts.length, 'admin ports are distinct across herds');
  });
});

describe('the runtime file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'herd-runtime-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const content = (configFile: string, supervisorPid: number): RuntimeFile => ({
    version: 2,
    configFile,
    supervisorPid,
    updatedAt: new Date().toISOString(),
    servers: {
      A: {
        host: '127.0.0.1',
        port: 40001,
        peerHost: '127.0.0.1',
        peerPort: 40003,
        adminUrl: 'http://127.0.0.1:40002',
        pid: 1234,
        logFile: '/tmp/A.log',
      },
    },
  });

  test('is read back for the same config while its supervisor runs, and removed without error', () => {
    const file = runtimeFilePath(dir);
    assert.equal(path.basename(file), 'herd-runtime.json');
    const configFile = path.join(dir, 'herd.json');
    writeRuntimeFile(file, content(configFile, process.pid));
    assert.equal(readRuntimeFile(file, configFile)?.servers.A?.port, 40001);
    assert.equal(readRuntimeFile(file, path.join(dir, 'other.json')), undefined, 'another config');
    removeRuntimeFile(file);
    assert.equal(existsSync(file), false);
    removeRuntimeFile(file);
    assert.equal(readRuntimeFile(file, configFile), undefined, 'missing');
  });

  test('is ignored when stale (its supervisor is gone) or malformed', async () => {
    const file = runtimeFilePath(dir);
    const configFile = path.join(dir, 'herd.json');
    // Pid numbers wrap far below 2^31 - 1 on Linux; no process has this one.
    writeRuntimeFile(file, content(configFile, 2_147_483_646));
    assert.equal(readRuntimeFile(file, configFile), undefined);
    await writeFile(file, '{"version": 2, "servers": ');
    assert.equal(readRuntimeFile(file, configFile), undefined);
  });
});

describe('formatStatusTable', () => {
  test('one row per server, down servers with dashes and the reason below', () => {
    const status: ServerStatus = {
      name: 'A',
      incarnation: 'i',
      uptimeMs: 1,
      clientAddress: '127.0.0.1:1',
      peerAddress: '127.0.0.1:5',
      clients: 3,
      connections: 1,
      placesSource: 'offline',
      links: [
        {
          peer: 'B',
          status: 'backoff',
          queued: 0,
          dropped: 0,
          connects: 1,
          inbound: false,
          timeouts: 0,
          inboundTimeouts: 0,
        },
      ],
      store: { state: 'failing', lastError: 'SQLITE_FULL: database or disk is full', pendingRows: 1200 },
    };
    const report: HerdStatusReport = {
      configFile: '/h.json',
      runtimeFile: undefined,
      servers: [
        {
          name: 'A',
          state: 'up',
          address: '127.0.0.1:1',
          peerAddress: '127.0.0.1:5',
          adminUrl: 'http://127.0.0.1:2',
          dashboardUrl: 'http://127.0.0.1:2/',
          pid: 1,
          external: false,
          status,
          lagP99Ms: 0.25,
          error: undefined,
        },
        {
          name: 'B',
          state: 'down',
          address: '127.0.0.1:3',
          peerAddress: '127.0.0.1:6',
          adminUrl: 'http://127.0.0.1:4',
          dashboardUrl: 'http://127.0.0.1:4/',
          pid: 2,
          external: false,
          status: undefined,
          lagP99Ms: undefined,
          error: 'ECONNREFUSED',
        },
      ],
    };
    const lines = formatStatusTable(report);
    assert.match(lines[0] ?? '', /^herd: status of \/h\.json \(addresses from the config\)$/);
    assert.deepEqual(lines[1]?.split(/\s{2,}/), [
      'SERVER',
      'STATE',
      'CLIENT PORT',
      'PEER PORT',
      'LINKS',
      'CLIENTS',
      'STORE',
      'LAG p99',
      'ADMIN',
      'DASHBOARD',
    ]);
    assert.deepEqual(lines[2]?.split(/\s{2,}/), [
      'A',
      'up',
      '127.0.0.1:1',
      '127.0.0.1:5',
      'B:backoff',
      '3',
      'failing, 1200 pending',
      '0.3 ms',
      'http://127.0.0.1:2',
      'http://127.0.0.1:2/',
    ]);
    assert.deepEqual(lines[3]?.split(/\s{2,}/), [
      'B',
      'down',
      '127.0.0.1:3',
      '127.0.0.1:6',
      '-',
      '-',
      '-',
      '-',
      'http://127.0.0.1:4',
      'http://127.0.0.1:4/',
    ]);
    assert.equal(lines[4], '  A: store failing: SQLITE_FULL: database or disk is full');
    assert.equal(lines[5], '  B: ECONNREFUSED');
    assert.equal(lines[6], 'herd: 1 of 2 servers up');
  });
});
