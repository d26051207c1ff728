/**
 * The dashboards of a herd run by `herd start` (real processes on 127.0.0.1, port 0): an IAMAT at one
 * server on a neighbour's stream within 1 s, a SIGKILLed neighbour as a `link` event, dashboard URLs
 * in `herd start` and `herd status`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RunningHerd, exchange, tempHerdConfig } from '../helpers/herd-process.js';
import { runCli } from '../helpers/cli.js';
import { MEMORY_STORE, QUIET_LOG } from '../helpers/herd-config-options.js';
import { openEventStream, type SseEvent } from '../helpers/sse-reader.js';

/** Reads `/events` of a server and remembers everything. */
async function streamOf(url: string): Promise<Awaited<ReturnType<typeof openEventStream>>> {
  const stream = await openEventStream(`${url}/events`);
  assert.equal(stream.status, 200);
  return stream;
}

describe('the dashboards of a herd run by herd start', { timeout: 120_000 }, () => {
  let herd: RunningHerd;
  let cleanup: () => Promise<void>;
  let configFile: string;
  before(async () => {
    // The dashboard's claims, not the store's; no log line is read (docs/deploy.md "The test bed").
    const temp = await tempHerdConfig({ admin: true, extra: { store: MEMORY_STORE, ...QUIET_LOG } });
    cleanup = temp.cleanup;
    configFile = temp.configFile;
    herd = await RunningHerd.start(configFile, ['--no-restart']);
  });
  after(async () => {
    await herd?.stop();
    await cleanup?.();
  });

  test('herd start prints each dashboard URL, and herd status shows it', async () => {
    for (const [name, info] of herd.servers) {
      assert.ok(info.adminUrl, `${name} has an admin URL`);
      assert.ok(
        herd.output.some((line) => line.trim() === `dashboard ${info.adminUrl}/`),
        `a dashboard line for ${name}`,
      );
    }
    const status = (await runCli(['status', '--config', configFile])).stdout;
    assert.match(status, /DASHBOARD/);
    for (const info of herd.servers.values()) assert.ok(status.includes(`${info.adminUrl}/`), status);
  });

  test('/herd of one server has every member with its real admin URL (sent by herd start)', async () => {
    const alford = herd.servers.get('Alford')?.adminUrl as string;
    const description = (await (await fetch(`${alford}/herd`)).json()) as {
      servers: { name: string; dashboardUrl: string }[];
      rows: { name: string; state: string }[];
    };
    for (const [name, info] of herd.servers)
      assert.equal(description.servers.find((s) => s.name === name)?.dashboardUrl, `${info.adminUrl}/`);
    assert.deepEqual(
      description.rows.map((row) => row.state),
      description.rows.map(() => 'up'),
    );
  });

  test("an IAMAT at one server appears on a neighbour's stream within 1 s", async () => {
    const hamilton = await streamOf(herd.servers.get('Hamilton')?.adminUrl as string);
    try {
      await hamilton.waitFor((event) => event.event === 'server', 5000, 'the first server event');
      const started = performance.now();
      const reply = await exchange(herd.port('Alford'), 'IAMAT neighbour.test +34.07-118.44 1700000000\n');
      assert.match(reply, /^AT Alford /);
      const event = await hamilton.waitFor(
        (e) =>
          e.event === 'checkin' &&
          (e.data as { checkins: { id: string }[] }).checkins.some((c) => c.id === 'neighbour.test'),
        1000,
        'the check-in on Hamilton',
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 1000, `${Math.round(elapsed)} ms`);
      const checkin = (
        event.data as { checkins: { id: string; server: string; time: string; lat: number; lng: number }[] }
      ).checkins.find((c) => c.id === 'neighbour.test');
      assert.deepEqual(checkin, {
        id: 'neighbour.test',
        lat: 34.07,
        lng: -118.44,
        server: 'Alford',
        time: '1700000000',
      });
    } finally {
      hamilton.close();
    }
  });

  test('a SIGKILLed neighbour appears as a link event with a backoff state, and its row turns down', async () => {
    const alford = await streamOf(herd.servers.get('Alford')?.adminUrl as string);
    try {
      await alford.waitFor((event) => event.event === 'server', 5000, 'the first server event');
      herd.kill('Hamilton');
      const isDown = (event: SseEvent): boolean =>
        event.event === 'link' &&
        (event.data as { server: string; links: { peer: string; status: string }[] }).links.some(
          (link) => link.peer === 'Hamilton' && (link.status === 'backoff' || link.status === 'down'),
        );
      const link = await alford.waitFor(isDown, 5000, 'a link event for Hamilton');
      assert.equal((link.data as { server: string }).server, 'Alford');
      await alford.waitFor(
        (event) =>
          event.event === 'server' &&
          (event.data as { rows: { name: string; state: string }[] }).rows.some(
            (row) => row.name === 'Hamilton' && row.state === 'down',
          ),
        8000,
        'a server event with Hamilton down',
      );
    } finally {
      alford.close();
    }
  });
});
