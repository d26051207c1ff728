/**
 * Only operators read the admin port (docs/operations.md "The admin port's tokens"), over real HTTP
 * on 127.0.0.1 port 0: 401 without a token or with a wrong one, the admin (metrics) token refused
 * on the routes that show client locations, the locations token reading everything, `/live` and the
 * page's files open; `/ready` and `/live`; `herd serve` and `herd start` refusing an open admin port
 * off loopback; `herd status` sending the token and showing the store.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminToken } from '../../src/observability/admin-auth.js';
import type { StoreStatus } from '../../src/core/status.js';
import { REPEATED_FAULT_LOG_INTERVAL_MS } from '../../src/observability/log-throttle.js';
import { exchange, RunningHerd, tempHerdConfig } from '../helpers/herd-process.js';
import { assertOneLine, runCli } from '../helpers/cli.js';
import { QUIET_LOG } from '../helpers/herd-config-options.js';
import { startMember, type Member } from '../helpers/dashboard-member.js';

const ADMIN = 'admin-port-test-admin-token-0123';
const LOCATIONS = 'admin-port-test-locations-token-0123';
const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** Status code of GET `path` (the body read and dropped; an event stream aborted once answered). */
async function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  controller.abort();
  return response.status;
}

describe('an admin port with both tokens', { timeout: 60_000 }, () => {
  let member: Member;
  /** Before the first refused request, on the monotonic clock the throttle keeps, ms. */
  let firstRefusalAt = 0;
  before(async () => {
    member = await startMember({}, () => ({
      tokens: { admin: new AdminToken(ADMIN), locations: new AdminToken(LOCATIONS) },
    }));
    const now = Math.floor(Date.now() / 1000);
    await exchange(member.port, `IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 ${now}\n`);
    firstRefusalAt = performance.now();
  });
  after(async () => {
    await member?.close();
  });

  const operatorRoutes = ['/metrics', '/status', '/ready', '/healthz', '/herd', '/dashboard/countries.json'];
  const locationRoutes = ['/clients', '/client?id=kiwi.cs.ucla.edu', '/events'];

  test('no token, or a wrong one, gets 401 with WWW-Authenticate on every route but /live and the page', async () => {
    for (const route of [...operatorRoutes, ...locationRoutes, '/no-such-route']) {
      for (const headers of [{}, auth('wrong-token-of-the-same-sort-0123'), { Authorization: ADMIN }]) {
        const response = await fetch(`${member.url}${route}`, { headers });
        assert.equal(response.status, 401, `${route} ${JSON.stringify(headers)}`);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="herd admin"');
        assert.match(await response.text(), /admin token is required/);
      }
    }
    for (const route of ['/live', '/', '/dashboard/dashboard.js', '/dashboard/admin-token.js'])
      assert.equal(await statusOf(`${member.url}${route}`), 200, route);
  });

  test('the admin token (what a metrics scraper holds) reads figures but never a client location', async () => {
    for (const route of operatorRoutes) assert.equal(await statusOf(`${member.url}${route}`, auth(ADMIN)), 200, route);
    for (const route of locationRoutes) {
      const response = await fetch(`${member.url}${route}`, { headers: auth(ADMIN) });
      assert.equal(response.status, 403, route);
      const body = await response.text();
      assert.match(body, /cannot read client locations/);
      assert.doesNotMatch(body, /kiwi|34\.06/);
    }
    // Nothing in what it can read names a client.
    for (const route of operatorRoutes) {
      const body = await (await fetch(`${member.url}${route}`, { headers: auth(ADMIN) })).text();
      assert.doesNotMatch(body, /kiwi\.cs\.ucla\.edu/, route);
    }
  });

  test('the locations token reads every route', async () => {
    for (const route of [...operatorRoutes, ...locationRoutes])
      assert.equal(await statusOf(`${member.url}${route}`, auth(LOCATIONS)), 200, route);
    const clients = (await (await fetch(`${member.url}/clients`, { headers: auth(LOCATIONS) })).json()) as {
      points: { id: string }[];
    };
    assert.deepEqual(
      clients.points.map((point) => point.id),
      ['kiwi.cs.ucla.edu'],
    );
  });

  test('refusals are logged without the token, at most once a second', () => {
    const refusals = member.log().filter((entry) => entry.event === 'admin-unauthorized');
    assert.ok(refusals.length >= 1, 'the refusals are logged');
    // However long the 33 refused requests above took on this machine, one line a second at most.
    // Counted on the throttle's own monotonic clock: the lines' wall-clock times can step (the
    // throttle itself is tested with an injected clock in log-throttle.test.ts).
    const elapsedMs = performance.now() - firstRefusalAt;
    const most = 1 + Math.floor(elapsedMs / REPEATED_FAULT_LOG_INTERVAL_MS);
    assert.ok(refusals.length <= most, `${refusals.length} lines in ${Math.round(elapsedMs)} ms`);
    const text = JSON.stringify(member.log());
    for (const token of [ADMIN, LOCATIONS, 'wrong-token-of-the-same-sort']) assert.ok(!text.includes(token));
  });
});

describe('/ready and /live', { timeout: 60_000 }, () => {
  test('/ready is 200 while the store is ok or in memory, 503 with the reason when it fails, is read-only, or the server stops', async () => {
    let store: { state: 'ok' | 'failing' | 'read-only' | 'memory'; pendingRows: number; lastError?: string } = {
      state: 'memory',
      pendingRows: 0,
    };
    let stopping = false;
    const member = await startMember({}, (server) => ({
      status: () => ({ ...server.status(), store }),
      healthy: () => !stopping,
    }));
    try {
      const ready = async (): Promise<{ status: number; body: unknown }> => {
        const response = await fetch(`${member.url}/ready`);
        assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
        return { status: response.status, body: await response.json() };
      };
      assert.deepEqual(await ready(), { status: 200, body: { ready: true, store: 'memory' } });
      store = { state: 'ok', pendingRows: 3 };
      assert.deepEqual(await ready(), { status: 200, body: { ready: true, store: 'ok' } });
      store = { state: 'failing', pendingRows: 93, lastError: 'SQLITE_FULL: database or disk is full' };
      assert.deepEqual(await ready(), {
        status: 503,
        body: { ready: false, reason: 'store failing: SQLITE_FULL: database or disk is full', store: 'failing' },
      });
      store = { state: 'read-only', pendingRows: 1 };
      assert.deepEqual(await ready(), {
        status: 503,
        body: { ready: false, reason: 'store read-only', store: 'read-only' },
      });
      store = { state: 'ok', pendingRows: 0 };
      stopping = true;
      assert.deepEqual(await ready(), { status: 503, body: { ready: false, reason: 'stopping', store: 'ok' } });
      // Liveness is about the process, not its duties: still 200 while it drains.
      const live = await fetch(`${member.url}/live`);
      assert.equal(live.status, 200);
      assert.equal(await live.text(), 'live\n');
    } finally {
      await member.close();
    }
  });

  test("a real server's /status has its store: memory without a durable store", async () => {
    const member = await startMember();
    try {
      const status = (await (await fetch(`${member.url}/status`)).json()) as { store: unknown };
      assert.deepEqual(status.store, { state: 'memory', pendingRows: 0 });
    } finally {
      await member.close();
    }
  });
});

describe('an admin port off loopback', { timeout: 60_000 }, () => {
  // 192.0.2.1 (TEST-NET-1, RFC 5737) is no address of this machine: nothing is ever bound there.
  const config = (admin: object) =>
    tempHerdConfig({
      servers: ['Alford'],
      links: [],
      extra: {
        servers: [{ name: 'Alford', host: '127.0.0.1', port: 0, adminHost: '192.0.2.1', adminPort: 0 }],
        admin,
        store: { durable: false },
      },
    });
  const env = { ...process.env, HERD_ADMIN_TOKEN: undefined, HERD_ADMIN_TOKEN_FILE: undefined };

  test('herd serve and herd start refuse it without a token: one line naming the field, exit code 2', async () => {
    const temp = await config({});
    try {
      for (const args of [
        ['serve', 'Alford', '--config', temp.configFile],
        ['start', '--config', temp.configFile],
      ]) {
        const result = await runCli(args, { env });
        assertOneLine(
          result,
          2,
          /^herd: \S+herd\.json: servers\[0\]\.adminHost: 192\.0\.2\.1 is not a loopback address and no admin token is set, .* set admin\.tokenFile \(or HERD_ADMIN_TOKEN\), or admin\.allowUnauthenticated: true to serve it without one$/,
        );
        assert.equal(result.stdout, '');
      }
    } finally {
      await temp.cleanup();
    }
  });

  test('with a token, or admin.allowUnauthenticated, herd serve goes on (and here fails to bind the address)', async () => {
    for (const [admin, extraEnv] of [
      [{ allowUnauthenticated: true }, {}],
      [{}, { HERD_ADMIN_TOKEN: ADMIN }],
    ] as const) {
      const temp = await config(admin);
      try {
        const { code, stderr } = await runCli(['serve', 'Alford', '--config', temp.configFile], {
          env: { ...env, ...extraEnv },
        });
        assert.equal(code, 1, stderr);
        assert.match(stderr, /admin port 192\.0\.2\.1:0: .*\(EADDRNOTAVAIL\)/);
        assert.doesNotMatch(stderr, /loopback/);
      } finally {
        await temp.cleanup();
      }
    }
  });
});

describe('herd status with an admin token', { timeout: 60_000 }, () => {
  const tokenEnv = { ...process.env, HERD_ADMIN_TOKEN: ADMIN };
  let herd: RunningHerd;
  let temp: Awaited<ReturnType<typeof tempHerdConfig>>;
  before(async () => {
    // No log line is read; the store stays durable (`herd status` shows each store).
    temp = await tempHerdConfig({
      servers: ['Alford', 'Ball'],
      links: [['Alford', 'Ball']],
      admin: true,
      extra: QUIET_LOG,
    });
    herd = await RunningHerd.start(temp.configFile, ['--no-restart'], tokenEnv);
  });
  after(async () => {
    await herd?.stop();
    await temp?.cleanup();
  });

  test('sends the token and shows each store; without it, says the admin port wants one', async () => {
    const withToken = await runCli(['status', '--config', temp.configFile], { env: tokenEnv });
    assert.equal(withToken.code, 0, withToken.stdout);
    const lines = withToken.stdout.split('\n');
    assert.match(
      lines[1] ?? '',
      /^SERVER\s+STATE\s+CLIENT PORT\s+PEER PORT\s+LINKS\s+CLIENTS\s+STORE\s+LAG p99\s+ADMIN/,
    );
    assert.match(lines[2] ?? '', /^Alford\s+up\s+.*\s+Ball:up\s+0\s+ok\s+/);
    const json = await runCli(['status', '--config', temp.configFile, '--json'], { env: tokenEnv });
    const report = JSON.parse(json.stdout) as { servers: { status: { store: StoreStatus } }[] };
    // The file's size is there once the store has looked at its file (it may not have yet).
    const { bytes, ...store } = report.servers[0]?.status.store ?? { state: 'memory', pendingRows: -1 };
    assert.deepEqual(store, { state: 'ok', pendingRows: 0 });
    assert.ok(bytes === undefined || bytes > 0, `bytes ${bytes}`);

    const without = await runCli(['status', '--config', temp.configFile], {
      env: { ...process.env, HERD_ADMIN_TOKEN: undefined },
    });
    assert.equal(without.code, 1);
    assert.match(without.stdout, /^Alford\s+unknown\s/m);
    assert.match(
      without.stdout,
      /^ {2}Alford: its admin port answered 401: no admin token is set \(HERD_ADMIN_TOKEN, or admin\.tokenFile in the config\)$/m,
    );
  });
});
