/**
 * Admin ports in the herd config (docs/observability.md "Turning it on"): optional, loopback by
 * default, never a client port or another admin port, and the shipped herds' ports.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILT_IN_HERDS, builtInHerdFile, loadHerdConfig, validateHerdConfig } from '../../src/config/herd-config.js';
import { ConfigError } from '../../src/errors.js';
import { assertConfigError } from '../helpers/config-fixtures.js';

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
    for (const [adminPort, clash] of [
      [1000, '127.0.0.1:1000 is also the client port of "A" (duplicate port)'],
      [2000, '127.0.0.1:2000 is also the admin port of "A" (duplicate port)'],
    ] as const) {
      const servers = [
        { name: 'A', port: 1000, adminPort: 2000 },
        { name: 'B', port: 1001, adminPort },
      ];
      assertConfigError(() => validateHerdConfig(base(servers), 'x.json'), 'x.json', 'servers[1].adminPort', clash);
    }
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
