/**
 * Who may read an admin port (src/observability/admin-auth.ts): which token reads which route, the
 * constant-time check, where tokens come from, and the refusal of an open admin port off loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { validateHerdConfig } from '../../src/config/herd-config.js';
import { noHerdRunning, type HerdStatusReport, type ServerReport } from '../../src/cli/status.js';
import {
  AdminToken,
  MIN_ADMIN_TOKEN_BYTES,
  assertAdminPortsAllowed,
  checkAccess,
  clientAuthorization,
  isLoopbackHost,
  loadAdminTokens,
  type AdminTokens,
} from '../../src/observability/admin-auth.js';

const ADMIN = 'admin-token-0123456789abcdef';
const LOCATIONS = 'locations-token-0123456789abcdef';
const bearer = (token: string): string => `Bearer ${token}`;

describe('checkAccess', () => {
  const both: AdminTokens = { admin: new AdminToken(ADMIN), locations: new AdminToken(LOCATIONS) };
  const adminOnly: AdminTokens = { admin: new AdminToken(ADMIN) };

  test('without tokens every route is open; public routes are always open', () => {
    for (const access of ['public', 'operator', 'locations'] as const)
      assert.equal(checkAccess({}, access, undefined), 'allowed');
    assert.equal(checkAccess(both, 'public', undefined), 'allowed');
  });

  test('no token, another scheme, an empty or a wrong token: unauthenticated', () => {
    for (const header of [undefined, '', `Basic ${ADMIN}`, 'Bearer ', 'Bearer  ', bearer('nope'), ADMIN])
      for (const access of ['operator', 'locations'] as const)
        assert.equal(checkAccess(both, access, header), 'unauthenticated', `${access} ${String(header)}`);
  });

  test('the admin token reads operator routes; locations too only while there is no locations token', () => {
    assert.equal(checkAccess(both, 'operator', bearer(ADMIN)), 'allowed');
    assert.equal(checkAccess(both, 'locations', bearer(ADMIN)), 'forbidden');
    assert.equal(checkAccess(adminOnly, 'locations', bearer(ADMIN)), 'allowed');
    // The scheme is case-insensitive (RFC 9110 11.1), the token is not.
    assert.equal(checkAccess(both, 'operator', `bearer ${ADMIN}`), 'allowed');
    assert.equal(checkAccess(both, 'operator', bearer(ADMIN.toUpperCase())), 'unauthenticated');
  });

  test('the locations token reads every route', () => {
    for (const access of ['operator', 'locations'] as const)
      assert.equal(checkAccess(both, access, bearer(LOCATIONS)), 'allowed');
  });

  test('with only a locations token, operator routes stay open and locations need it', () => {
    const locationsOnly: AdminTokens = { locations: new AdminToken(LOCATIONS) };
    assert.equal(checkAccess(locationsOnly, 'operator', undefined), 'allowed');
    assert.equal(checkAccess(locationsOnly, 'locations', undefined), 'unauthenticated');
    assert.equal(checkAccess(locationsOnly, 'locations', bearer(LOCATIONS)), 'allowed');
  });

  test('a wrong token takes as long whether it differs in its first byte or its last', () => {
    // With a 1 MiB token a plain string comparison would answer the first at once and the second
    // only after comparing the whole prefix (tens of microseconds against nothing); comparing
    // SHA-256 digests makes both cost the same hashing.
    const secret = 'k'.repeat(1 << 20);
    const tokens: AdminTokens = { admin: new AdminToken(secret) };
    const lastWrong = bearer(`${secret.slice(0, -1)}x`);
    const firstWrong = bearer(`x${secret.slice(1)}`);
    const time = (header: string): number => {
      const started = process.hrtime.bigint();
      assert.equal(checkAccess(tokens, 'operator', header), 'unauthenticated');
      return Number(process.hrtime.bigint() - started);
    };
    for (let i = 0; i < 5; i++) time(i % 2 === 0 ? lastWrong : firstWrong);
    // Each pair back to back, in alternating order, so that a busy machine slows both alike; the
    // median of the pairs' ratios. A plain comparison gives about 20 here; hashing gives 1.
    const ratios: number[] = [];
    for (let i = 0; i < 61; i++) {
      let late: number;
      let early: number;
      if (i % 2 === 0) {
        late = time(lastWrong);
        early = time(firstWrong);
      } else {
        early = time(firstWrong);
        late = time(lastWrong);
      }
      ratios.push(late / early);
    }
    const ratio = ratios.sort((a, b) => a - b)[ratios.length >> 1] as number;
    assert.ok(ratio > 0.5 && ratio < 2, `last-byte-wrong / first-byte-wrong = ${ratio.toFixed(3)}`);
  });
});

describe('loadAdminTokens', () => {
  let dir: string;
  let tokenFile: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'herd-admin-token-'));
    tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, `${ADMIN}\n`);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const section = (extra: object = {}) => ({ allowUnauthenticated: false, ...extra });

  test('HERD_ADMIN_TOKEN first, then HERD_ADMIN_TOKEN_FILE, then admin.tokenFile; the same for the locations token', () => {
    const fromEnv = loadAdminTokens(section({ tokenFile }), { HERD_ADMIN_TOKEN: LOCATIONS });
    assert.equal(clientAuthorization(fromEnv), bearer(LOCATIONS));
    assert.equal(clientAuthorization(loadAdminTokens(section(), { HERD_ADMIN_TOKEN_FILE: tokenFile })), bearer(ADMIN));
    assert.equal(clientAuthorization(loadAdminTokens(section({ tokenFile }), {})), bearer(ADMIN));
    const locations = loadAdminTokens(section({ locationsTokenFile: tokenFile }), {});
    assert.equal(locations.admin, undefined);
    assert.equal(clientAuthorization(locations), bearer(ADMIN));
    assert.deepEqual(loadAdminTokens(section(), {}), { admin: undefined, locations: undefined });
  });

  test('a short token, one with spaces, or a file that cannot be read is a ConfigError naming its source', () => {
    const short = 'k'.repeat(MIN_ADMIN_TOKEN_BYTES - 1);
    assert.throws(
      () => loadAdminTokens(section(), { HERD_ADMIN_TOKEN: short }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /^HERD_ADMIN_TOKEN: the admin token must be at least 16 bytes/.test(error.message),
    );
    assert.throws(
      () => loadAdminTokens(section(), { HERD_ADMIN_LOCATIONS_TOKEN: 'has a space in it, 0123456789' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /^HERD_ADMIN_LOCATIONS_TOKEN: the admin locations token must be printable ASCII without spaces/.test(
          error.message,
        ),
    );
    const missing = path.join(dir, 'missing');
    assert.throws(
      () => loadAdminTokens(section({ tokenFile: missing }), {}),
      (error: unknown) =>
        error instanceof ConfigError && error.message === `${missing}: cannot read the admin token: ENOENT`,
    );
  });
});

describe('assertAdminPortsAllowed', () => {
  const config = (adminHost: string, admin: object = {}) =>
    validateHerdConfig({ servers: [{ name: 'A', port: 12000, adminPort: 12100, adminHost }], admin }, 'herd.json');

  test('loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '10.77.0.1', '::ffff:10.0.0.1', 'herd.example', '::2', '128.0.0.1'])
      assert.ok(!isLoopbackHost(host), host);
  });

  test('a non-loopback admin host without an admin token is refused, naming the field and the fix', () => {
    assert.throws(
      () => assertAdminPortsAllowed(config('0.0.0.0'), 'herd.json', ['A'], {}),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.startsWith('herd.json: servers[0].adminHost: 0.0.0.0 is not a loopback address') &&
        error.message.includes('admin.tokenFile (or HERD_ADMIN_TOKEN)') &&
        error.message.includes('admin.allowUnauthenticated: true') &&
        !error.message.includes('\n'),
    );
    // A locations token alone leaves /metrics and /status open: still refused.
    assert.throws(() =>
      assertAdminPortsAllowed(config('10.77.0.1'), 'herd.json', ['A'], { locations: new AdminToken(LOCATIONS) }),
    );
  });

  test('a token, allowUnauthenticated, loopback, or a server not run here passes', () => {
    assertAdminPortsAllowed(config('0.0.0.0'), 'herd.json', ['A'], { admin: new AdminToken(ADMIN) });
    assertAdminPortsAllowed(config('0.0.0.0', { allowUnauthenticated: true }), 'herd.json', ['A'], {});
    assertAdminPortsAllowed(config('127.0.0.1'), 'herd.json', ['A'], {});
    assertAdminPortsAllowed(config('0.0.0.0'), 'herd.json', [], {});
  });

  test('the admin section is validated like the rest of the config', () => {
    assert.throws(
      () => config('127.0.0.1', { token: 'x' }),
      (error: unknown) => error instanceof ConfigError && /admin/.test(error.message),
    );
    assert.throws(
      () => config('127.0.0.1', { allowUnauthenticated: 'yes' }),
      (error: unknown) => error instanceof ConfigError && /admin\.allowUnauthenticated/.test(error.message),
    );
  });
});

describe('herd status and a refused token', () => {
  const server = (name: string, state: ServerReport['state'], adminUrl: string | undefined): ServerReport => ({
    name,
    state,
    address: '10.77.0.1:12000',
    peerAddress: '10.78.0.1:22000',
    adminUrl,
    dashboardUrl: adminUrl === undefined ? undefined : `${adminUrl}/`,
    pid: undefined,
    external: false,
    status: undefined,
    lagP99Ms: undefined,
    error: undefined,
  });
  const report = (servers: ServerReport[], runtimeFile?: string): HerdStatusReport => ({
    configFile: '/etc/herd/herd.json',
    runtimeFile,
    servers,
  });

  test('a herd whose admin ports refuse the token is running: herd status prints its table', () => {
    assert.equal(noHerdRunning(report([server('A', 'down', 'http://a'), server('B', 'unknown', undefined)])), true);
    assert.equal(noHerdRunning(report([server('A', 'down', 'http://a'), server('B', 'unknown', 'http://b')])), false);
    assert.equal(noHerdRunning(report([server('A', 'down', 'http://a')], '/var/log/herd/herd-runtime.json')), false);
  });
});
