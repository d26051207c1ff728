/**
 * Issue 5, "Watch a running herd": `/metrics` and `/status` report what a test just did (commands,
 * floods, places look-ups, a link to a closed neighbour), `/healthz`, 404 and 405; and over real
 * processes through the CLI, admin URLs in `herd start`, the runtime file, and `herd status` showing a
 * killed server as down. Everything listens on 127.0.0.1 port 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AdminServer } from '../../src/observability/admin-server.js';
import { MetricsObserver } from '../../src/observability/metrics.js';
import { findSample, parsePrometheusText, type PrometheusSample } from '../helpers/prometheus-text.js';
import type { ServerStatus } from '../../src/core/status.js';
import { HerdServer, type HerdServerOptions } from '../../src/server/herd-server.js';
import { ScriptedPlaces, soloOptions } from '../helpers/one-server.js';
import { RUNTIME_FILE_NAME, type RuntimeFile } from '../../src/cli/runtime-file.js';
import { DEFAULT_SERVERS, RunningHerd, exchange, tempHerdConfig, waitUntil } from '../helpers/herd-process.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { QUIET_LOG } from '../helpers/herd-config-options.js';
import type { HerdStatusReport } from '../../src/cli/status.js';

/** One in-process member with metrics and an admin server, both on port 0. */
interface Member {
  readonly server: HerdServer;
  readonly admin: AdminServer;
  readonly port: number;
  readonly peerPort: number;
  readonly adminUrl: string;
  close(): Promise<void>;
}

async function startMember(options: Partial<HerdServerOptions> & { name: string }): Promise<Member> {
  const metrics = new MetricsObserver({ serverName: options.name, defaultMetrics: false });
  const server = new HerdServer(
    soloOptions({
      places: new ScriptedPlaces(),
      links: { reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 100 },
      observer: metrics,
      ...options,
    }),
  );
  metrics.attach(server);
  const { client, peer } = await server.listen();
  let closing = false;
  const admin = new AdminServer({ status: () => server.status(), metrics, healthy: () => !closing });
  await admin.listen();
  return {
    server,
    admin,
    port: client.port,
    peerPort: peer.port,
    adminUrl: admin.url as string,
    close: async () => {
      closing = true;
      await server.close();
      await admin.close();
    },
  };
}

async function scrape(adminUrl: string): Promise<PrometheusSample[]> {
  const response = await fetch(`${adminUrl}/metrics`);
  assert.equal(response.status, 200);
  return parsePrometheusText(await response.text());
}

async function statusOf(adminUrl: string): Promise<ServerStatus> {
  const response = await fetch(`${adminUrl}/status`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return (await response.json()) as ServerStatus;
}

describe('the admin server of one member', { timeout: 180_000 }, () => {
  let member: Member;
  const places = new ScriptedPlaces();
  before(async () => {
    member = await startMember({ name: 'Solo', places });
  });
  after(async () => {
    await member?.close();
  });

  test('/metrics counts 3 IAMATs and 1 invalid line just sent, in Prometheus format', async () => {
    const reply = await exchange(
      member.port,
      'IAMAT m1 +34-118 1700000000\nIAMAT m2 +34-118 1700000000\nIAMAT m3 +34-118 1700000000\nHELLO there\n',
    );
    assert.equal(reply.split('\n').filter((line) => line.startsWith('AT ')).length, 3);
    assert.match(reply, /^\? HELLO there$/m);
    const response = await fetch(`${member.adminUrl}/metrics`);
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const samples = parsePrometheusText(await response.text());
    assert.equal(findSample(samples, 'herd_commands_total', { command: 'IAMAT', outcome: 'ok', server: 'Solo' }), 3);
    assert.equal(findSample(samples, 'herd_commands_total', { command: 'INVALID', outcome: 'invalid' }), 1);
    assert.equal(findSample(samples, 'herd_reply_latency_seconds_count', { command: 'IAMAT' }), 3);
    assert.equal(findSample(samples, 'herd_clients'), 3);
    assert.equal(findSample(samples, 'herd_connections_opened_total', { kind: 'client' }), 1);
  });

  test('/metrics counts WHATSATs and places look-ups by source and status', async () => {
    await exchange(member.port, 'WHATSAT m1 10 1\nWHATSAT nobody 10 1\n');
    places.fail = true;
    try {
      const failed = await exchange(member.port, 'WHATSAT m2 10 1\n');
      assert.match(failed, /"status" : "UNKNOWN_ERROR"/);
    } finally {
      places.fail = false;
    }
    const samples = await scrape(member.adminUrl);
    assert.equal(findSample(samples, 'herd_commands_total', { command: 'WHATSAT', outcome: 'ok' }), 2);
    assert.equal(findSample(samples, 'herd_commands_total', { command: 'WHATSAT', outcome: 'unknown_client' }), 1);
    assert.equal(findSample(samples, 'herd_places_lookups_total', { source: 'scripted', status: 'OK' }), 1);
    assert.equal(findSample(samples, 'herd_places_lookups_total', { source: 'scripted', status: 'UNKNOWN_ERROR' }), 1);
    assert.equal(findSample(samples, 'herd_places_lookup_seconds_count', { source: 'scripted' }), 2);
  });

  test('/status is the server snapshot as JSON', async () => {
    const status = await statusOf(member.adminUrl);
    assert.equal(status.name, 'Solo');
    assert.equal(status.incarnation, member.server.incarnation);
    assert.equal(status.clients, 3);
    assert.equal(status.placesSource, 'scripted');
    assert.deepEqual(status.links, []);
    assert.ok(status.uptimeMs >= 0);
  });

  test('/healthz is ok; an unknown path is 404; a POST is 405; HEAD has no body', async () => {
    const health = await fetch(`${member.adminUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'ok\n');
    const missing = await fetch(`${member.adminUrl}/nope`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
    const post = await fetch(`${member.adminUrl}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.arrayBuffer();
    const head = await fetch(`${member.adminUrl}/status?pretty=1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });
});

describe('metrics of two linked members', { timeout: 180_000 }, () => {
  let a: Member;
  let b: Member | undefined;
  before(async () => {
    a = await startMember({ name: 'A', neighbours: ['B'] });
    b = await startMember({ name: 'B', neighbours: ['A'] });
    // Only A dials B: B's floods to A stay queued, so what A floods to B is all B receives.
    a.server.setPeerAddress('B', { host: '127.0.0.1', port: b.peerPort });
    await waitUntil(() => a.server.status().links[0]?.status === 'up', 10_000, 'link A->B up');
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  test('floods sent by A are counted as stored or stale by B', async () => {
    // B holds a newer time first, then A stores an older one and floods it: B ignores it as stale.
    await exchange(b!.port, 'IAMAT shared +1+1 1700000002\n');
    await exchange(a.port, 'IAMAT shared +1+1 1700000001\nIAMAT only-a +1+1 1700000001\n');
    await waitUntil(() => b!.server.store.get('only-a') !== undefined, 10_000, 'B to store only-a');
    const atB = await scrape(b!.adminUrl);
    assert.equal(findSample(atB, 'herd_flood_received_total', { peer: 'A', result: 'stored' }), 1);
    assert.equal(findSample(atB, 'herd_flood_received_total', { peer: 'A', result: 'stale' }), 1);
    assert.equal(findSample(atB, 'herd_connections', { kind: 'peer' }), 1);
    const atA = await scrape(a.adminUrl);
    assert.ok((findSample(atA, 'herd_flood_sent_total', { peer: 'B' }) ?? 0) >= 2);
    assert.equal(findSample(atA, 'herd_link_state', { peer: 'B', state: 'up' }), 1);
    assert.equal(findSample(atA, 'herd_link_queued_updates', { peer: 'B' }), 0);
  });

  test('the link to a closed neighbour shows down in /status and /metrics, and a reconnect is counted', async () => {
    const { port, peerPort } = b!;
    await b!.close();
    b = undefined;
    await waitUntil(async () => (await statusOf(a.adminUrl)).links[0]?.status !== 'up', 10_000, 'link A->B to go down');
    const link = (await statusOf(a.adminUrl)).links[0];
    assert.equal(link?.peer, 'B');
    assert.ok(['backoff', 'connecting'].includes(link?.status ?? ''), `link status ${link?.status}`);
    const down = await scrape(a.adminUrl);
    assert.equal(findSample(down, 'herd_link_state', { peer: 'B', state: 'up' }), 0);
    assert.equal(
      (findSample(down, 'herd_link_state', { peer: 'B', state: 'backoff' }) ?? 0) +
        (findSample(down, 'herd_link_state', { peer: 'B', state: 'connecting' }) ?? 0),
      1,
    );
    assert.equal(findSample(down, 'herd_link_reconnects_total', { peer: 'B' }), 0);
    // B comes back on the same port; A's link redials it.
    b = await startMember({ name: 'B', neighbours: ['A'], port, peerPort });
    await waitUntil(
      async () => findSample(await scrape(a.adminUrl), 'herd_link_reconnects_total', { peer: 'B' }) === 1,
      10_000,
      'a reconnect to be counted',
    );
    assert.equal(findSample(await scrape(a.adminUrl), 'herd_link_state', { peer: 'B', state: 'up' }), 1);
  });
});

/** Runs `herd status` through the CLI; resolves with its output and exit code. */
function herdStatusCli(configFile: string, extra: string[] = []): Promise<CliResult> {
  return runCli(['status', '--config', configFile, '--timeout', '2000', ...extra], { timeoutMs: 20_000 });
}

/** The table rows of `herd status`, by server name, split into columns. */
function rowsOf(stdout: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const cells = line.split(/\s{2,}/);
    if (cells.length === 10 && DEFAULT_SERVERS.includes(cells[0] as string)) rows.set(cells[0] as string, cells);
  }
  return rows;
}

/** Runs `herd client NAME LINE` through the CLI; resolves with what it printed. */
async function herdClientCli(configFile: string, name: string, line: string): Promise<string> {
  return (await runCli(['client', name, line, '--config', configFile, '--timeout', '5000'])).stdout;
}

describe('herd start and herd status over real processes', { timeout: 180_000 }, () => {
  let herd: RunningHerd | undefined;
  let temp: Awaited<ReturnType<typeof tempHerdConfig>>;
  before(async () => {
    // No log line is read; the store stays durable (`herd status` shows it ok).
    temp = await tempHerdConfig({ admin: true, extra: QUIET_LOG });
    // Short: the supervisor is frozen while a server is down (RunningHerd.whileDown).
    herd = await RunningHerd.start(temp.configFile, ['--restart-delay', '100']);
  });
  after(async () => {
    await herd?.stop();
    await temp?.cleanup();
  });

  const runtimeFile = (): string => path.join(temp.dir, 'logs', RUNTIME_FILE_NAME);
  const readRuntime = (): RuntimeFile => JSON.parse(readFileSync(runtimeFile(), 'utf8')) as RuntimeFile;

  test('herd start prints every admin URL and writes them, with the real ports, to the runtime file', async () => {
    const running = herd as RunningHerd;
    const runtime = readRuntime();
    assert.equal(runtime.configFile, temp.configFile);
    for (const name of DEFAULT_SERVERS) {
      const info = running.servers.get(name);
      assert.match(info?.adminUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, `${name} admin URL`);
      assert.ok(info?.logFile.endsWith(`${name}.log`), `log path without the admin part: ${info?.logFile}`);
      assert.notEqual(info?.peerPort, info?.port);
      assert.deepEqual(runtime.servers[name], {
        host: '127.0.0.1',
        port: info?.port,
        peerHost: '127.0.0.1',
        peerPort: info?.peerPort,
        adminUrl: info?.adminUrl,
        pid: info?.pid,
        logFile: info?.logFile,
      });
      const health = await fetch(`${info?.adminUrl}/healthz`);
      assert.equal(await health.text(), 'ok\n');
    }
    // `herd client NAME` finds a port-0 server through the runtime file.
    const reply = await herdClientCli(temp.configFile, 'Alford', 'IAMAT cli-client +1+1 1700000000');
    assert.match(reply, /^AT Alford \S+ cli-client \+1\+1 1700000000\n$/);
  });

  test('herd status shows every server up, then a killed one down, then back', async () => {
    const running = herd as RunningHerd;
    // Links come up just after the herd is up: wait for every one; the run that shows them all is checked.
    const before = await waitUntil(
      async () => {
        const result = await herdStatusCli(temp.configFile);
        const rows = rowsOf(result.stdout);
        const allUp =
          rows.size === 5 && [...rows.values()].every((row) => row[1] === 'up' && !/:(?!up\b)\w+/.test(row[4] ?? ''));
        return allUp ? result : undefined;
      },
      15_000,
      'every server and link up',
    );
    assert.equal(before.code, 0, before.stdout + before.stderr);
    assert.match(before.stdout, /herd: 5 of 5 servers up/);
    const alford = rowsOf(before.stdout).get('Alford') as string[];
    assert.equal(alford[2], `127.0.0.1:${running.port('Alford')}`);
    assert.equal(alford[3], `127.0.0.1:${running.servers.get('Alford')?.peerPort}`);
    assert.equal(alford[4], 'Hamilton:up,Welsh:up');
    assert.match(alford[5] ?? '', /^\d+$/);
    assert.equal(alford[6], 'ok', 'the store');
    assert.match(alford[7] ?? '', /^\d+(\.\d)? ms$/);
    assert.equal(alford[8], running.servers.get('Alford')?.adminUrl);
    assert.equal(alford[9], `${running.servers.get('Alford')?.adminUrl}/`, 'the dashboard URL');
    const status = (await (await fetch(`${running.servers.get('Alford')?.adminUrl}/status`)).json()) as {
      clientAddress: string;
      peerAddress: string;
    };
    assert.equal(status.clientAddress, alford[2]);
    assert.equal(status.peerAddress, alford[3]);

    const oldPid = running.servers.get('Ball')?.pid;
    const oldPeerPort = running.servers.get('Ball')?.peerPort;
    // `herd status` sees Ball down however slow the machine (RunningHerd.whileDown).
    await running.whileDown(['Ball'], async () => {
      const during = await herdStatusCli(temp.configFile);
      assert.equal(during.code, 1, 'exit code 1 when a server is down');
      const rows = rowsOf(during.stdout);
      assert.equal(rows.get('Ball')?.[1], 'down', during.stdout);
      assert.deepEqual(rows.get('Ball')?.slice(4, 8), ['-', '-', '-', '-']);
      assert.match(during.stdout, /^ {2}Ball: ECONNREFUSED$/m);
      assert.match(during.stdout, /herd: 4 of 5 servers up/);
      for (const name of ['Alford', 'Hamilton', 'Holiday', 'Welsh']) assert.equal(rows.get(name)?.[1], 'up', name);
    });

    // The supervisor restarted it: the runtime file has the new pid, the same ports.
    const runtime = readRuntime();
    assert.notEqual(runtime.servers.Ball?.pid, oldPid);
    assert.equal(runtime.servers.Ball?.port, running.port('Ball'));
    assert.equal(runtime.servers.Ball?.peerPort, oldPeerPort, 'the peer port is pinned like the client port');
    assert.equal(
      runtime.servers.Ball?.adminUrl,
      running.servers.get('Ball')?.adminUrl,
      'the admin port is pinned like the client port',
    );
    const after = await herdStatusCli(temp.configFile);
    assert.equal(rowsOf(after.stdout).get('Ball')?.[1], 'up', after.stdout);
  });

  test('the runtime file is removed when the herd stops cleanly; herd status then says no herd runs', async () => {
    assert.ok(existsSync(runtimeFile()));
    await herd?.stop();
    herd = undefined;
    assert.equal(existsSync(runtimeFile()), false);
    const result = await herdStatusCli(temp.configFile);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^herd: no herd of .* is running \(no herd start of it, and none of its 5 servers answers\)/,
    );
    // --json still reports each server, from the config: at the ports it names, down.
    const config = JSON.parse(readFileSync(temp.configFile, 'utf8')) as { servers: { name: string; port: number }[] };
    const json = await herdStatusCli(temp.configFile, ['--json']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as HerdStatusReport;
    assert.equal(report.runtimeFile, undefined);
    const alford = report.servers.find((server) => server.name === 'Alford');
    assert.equal(alford?.state, 'down');
    assert.equal(alford?.address, `127.0.0.1:${config.servers.find((server) => server.name === 'Alford')?.port}`);
    // With port 0 in the config and no runtime file, there is nothing to ask.
    const portZero = path.join(temp.dir, 'herd-port-0.json');
    writeFileSync(
      portZero,
      JSON.stringify({
        ...config,
        servers: config.servers.map((server) => ({ ...server, port: 0, peerPort: 0, adminPort: undefined })),
      }),
    );
    const unknown = JSON.parse((await herdStatusCli(portZero, ['--json'])).stdout) as HerdStatusReport;
    const alfordUnknown = unknown.servers.find((server) => server.name === 'Alford');
    assert.equal(alfordUnknown?.state, 'unknown');
    assert.equal(alfordUnknown?.address, undefined);
  });
});
