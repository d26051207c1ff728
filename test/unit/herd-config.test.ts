/**
 * Herd config files (docs/protocol.md "The herd"): the three shipped herds and their topologies,
 * defaults, and errors that name the file and the field.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  BUILT_IN_HERDS,
  HERDS_DIR,
  builtInHerdFile,
  loadHerdConfig,
  neighboursOf,
  validateHerdConfig,
  type HerdConfig,
} from '../../src/config/herd-config.js';
import { FILE, assertConfigError, base } from '../helpers/config-fixtures.js';
import { DEFAULT_LINK_SETTINGS, resolveLinkSettings } from '../../src/peers/link-settings.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/protocol/line-splitter.js';

/** docs/protocol.md "The herd", table of topologies. */
const TOPOLOGIES: Record<string, { servers: string[]; links: string }> = {
  default: {
    servers: ['Alford', 'Ball', 'Hamilton', 'Holiday', 'Welsh'],
    links: 'Alford-Hamilton, Alford-Welsh, Ball-Welsh, Ball-Holiday, Hamilton-Holiday',
  },
  '2019': {
    servers: ['Goloman', 'Hands', 'Holiday', 'Welsh', 'Wilkes'],
    links: 'Goloman-Hands, Goloman-Holiday, Goloman-Wilkes, Hands-Wilkes, Holiday-Welsh, Holiday-Wilkes',
  },
  '2023': {
    servers: ['Bailey', 'Bona', 'Campbell', 'Clark', 'Jaquez'],
    links: 'Clark-Jaquez, Clark-Bona, Campbell-Bailey, Campbell-Bona, Campbell-Jaquez, Bona-Bailey',
  },
};

/** A link as an order-free key. */
function linkKey(a: string, b: string): string {
  return [a, b].sort().join('-');
}

/** Servers reachable from the first one, following links both ways. */
function reachable(config: HerdConfig): Set<string> {
  const first = config.servers[0]?.name;
  assert.ok(first !== undefined);
  const seen = new Set([first]);
  const queue = [first];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    for (const next of neighboursOf(config, name)) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

describe('shipped herds', () => {
  test('the list of built-in herds is default, 2019 and 2023, each a file in herds/', () => {
    assert.deepEqual([...BUILT_IN_HERDS], ['default', '2019', '2023']);
    for (const name of BUILT_IN_HERDS) {
      assert.equal(builtInHerdFile(name), path.join(HERDS_DIR, `${name}.json`));
      assert.ok(existsSync(builtInHerdFile(name)), builtInHerdFile(name));
    }
  });

  for (const name of BUILT_IN_HERDS) {
    test(`herd ${name} loads with the servers and links of docs/protocol.md "The herd"`, () => {
      const config = loadHerdConfig(builtInHerdFile(name));
      const expected = TOPOLOGIES[name];
      assert.ok(expected !== undefined);
      assert.deepEqual(config.servers.map((s) => s.name).sort(), [...expected.servers].sort());
      const links = config.links.map(([a, b]) => linkKey(a, b)).sort();
      const expectedLinks = expected.links.split(', ').map((l) => {
        const [a, b] = l.split('-') as [string, string];
        return linkKey(a, b);
      });
      assert.deepEqual(links, expectedLinks.sort());
      // Every server hears every location, through others if need be.
      assert.deepEqual([...reachable(config)].sort(), [...expected.servers].sort());
      // Each server needs its own address.
      const endpoints = config.servers.map((s) => `${s.host}:${s.port}`);
      assert.equal(new Set(endpoints).size, endpoints.length);
      assert.ok(config.servers.every((s) => s.port > 0));
    });
  }

  test('neighboursOf follows links in both directions', () => {
    const config = loadHerdConfig(builtInHerdFile('default'));
    assert.deepEqual(neighboursOf(config, 'Alford').sort(), ['Hamilton', 'Welsh']);
    assert.deepEqual(neighboursOf(config, 'Holiday').sort(), ['Ball', 'Hamilton']);
    assert.deepEqual(neighboursOf(config, 'Nobody'), []);
  });
});

describe('validateHerdConfig', () => {
  test('fills in defaults', () => {
    const config = validateHerdConfig({ servers: [{ name: 'Solo', port: 0 }] }, FILE);
    assert.equal(config.servers[0]?.host, '127.0.0.1');
    assert.deepEqual(config.links, []);
    assert.equal(config.places.source, 'offline');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.limits.maxLineBytes, DEFAULT_MAX_LINE_BYTES);
    assert.ok(
      config.peer.reconnectBaseDelayMs > 0 && config.peer.reconnectMaxDelayMs >= config.peer.reconnectBaseDelayMs,
    );
  });

  test('accepts a valid herd and keeps its values', () => {
    const config = validateHerdConfig({ ...base(), logLevel: 'debug', limits: { maxLineBytes: 8192 } }, FILE);
    assert.deepEqual(config.links, base().links);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.limits.maxLineBytes, 8192);
  });

  test('the failure detector settings default from DEFAULT_LINK_SETTINGS, and deadAfterMs must be at least MIN_DEAD_AFTER_HEARTBEATS (3) heartbeats', () => {
    const config = validateHerdConfig(base(), FILE);
    assert.equal(config.peer.heartbeatIntervalMs, DEFAULT_LINK_SETTINGS.heartbeatIntervalMs);
    assert.equal(config.peer.deadAfterMs, DEFAULT_LINK_SETTINGS.deadAfterMs);
    assert.equal(
      validateHerdConfig({ ...base(), peer: { heartbeatIntervalMs: 200, deadAfterMs: 600 } }, FILE).peer.deadAfterMs,
      600,
    );
    assertConfigError(
      () => validateHerdConfig({ ...base(), peer: { heartbeatIntervalMs: 1000, deadAfterMs: 2999 } }, FILE),
      FILE,
      'peer.deadAfterMs',
      '2999 must be at least 3 x heartbeatIntervalMs (1000)',
    );
    // Against the default interval too.
    assertConfigError(
      () => validateHerdConfig({ ...base(), peer: { deadAfterMs: 1500 } }, FILE),
      FILE,
      'peer.deadAfterMs',
    );
    assertConfigError(
      () => validateHerdConfig({ ...base(), peer: { heartbeatIntervalMs: 0 } }, FILE),
      FILE,
      'peer.heartbeatIntervalMs',
    );
    assert.throws(
      () => resolveLinkSettings({ deadAfterMs: 10 }),
      /deadAfterMs: 10 must be at least 3 x heartbeatIntervalMs/,
    );
  });

  test('a link to an unknown server names the link and the server', () => {
    const raw = base();
    raw.links.push(['Alford', 'Balll']);
    assertConfigError(
      () => validateHerdConfig(raw, FILE),
      FILE,
      'links[2][1]: unknown server "Balll" (did you mean "Ball"? servers are',
    );
    const first = base();
    first.links.unshift(['Nowhere', 'Ball']);
    assertConfigError(() => validateHerdConfig(first, FILE), FILE, 'links[0][0]: unknown server "Nowhere"');
  });

  test('a duplicate port on the same host is an error naming the server entry', () => {
    const raw = base();
    raw.servers[2] = { name: 'Hamilton', port: 12000 };
    assertConfigError(
      () => validateHerdConfig(raw, FILE),
      FILE,
      'servers[2].port',
      '127.0.0.1:12000',
      'Alford',
      'duplicate port',
    );
  });

  test('the same port on different hosts, or port 0 twice, is allowed', () => {
    const raw = base();
    raw.servers[1] = { name: 'Ball', host: '127.0.0.2', port: 12000 };
    assert.equal(validateHerdConfig(raw, FILE).servers.length, 3);
    const zeros = base();
    for (const s of zeros.servers) s.port = 0;
    assert.equal(validateHerdConfig(zeros, FILE).servers.length, 3);
  });

  test('a duplicate server name is an error naming the entry', () => {
    const raw = base();
    raw.servers[2] = { name: 'Alford', port: 12002 };
    raw.links = [];
    assertConfigError(() => validateHerdConfig(raw, FILE), FILE, 'servers[2].name', 'duplicate server name "Alford"');
  });

  test('a server linked to itself is an error naming the link', () => {
    const raw = base();
    raw.links.push(['Hamilton', 'Hamilton']);
    assertConfigError(() => validateHerdConfig(raw, FILE), FILE, 'links[2]', 'itself', '"Hamilton"');
  });

  test('a duplicate link, in either direction, is an error naming the second one', () => {
    const same = base();
    same.links.push(['Alford', 'Ball']);
    assertConfigError(() => validateHerdConfig(same, FILE), FILE, 'links[2]', 'duplicate link');
    const reversed = base();
    reversed.links.push(['Hamilton', 'Ball']);
    assertConfigError(() => validateHerdConfig(reversed, FILE), FILE, 'links[2]', 'duplicate link');
  });

  test('schema violations name the field', () => {
    assertConfigError(
      () => validateHerdConfig({ servers: [{ name: 'A', port: 70000 }] }, FILE),
      FILE,
      'servers[0].port',
    );
    assertConfigError(() => validateHerdConfig({ servers: [{ name: 'A', port: -1 }] }, FILE), FILE, 'servers[0].port');
    assertConfigError(() => validateHerdConfig({ servers: [{ name: 'A', port: 1.5 }] }, FILE), FILE, 'servers[0].port');
    assertConfigError(
      () => validateHerdConfig({ servers: [{ name: 'A', port: '12000' }] }, FILE),
      FILE,
      'servers[0].port',
    );
    assertConfigError(
      () =>
        validateHerdConfig(
          {
            servers: [
              { name: 'A', port: 1 },
              { name: 'Bad Name', port: 2 },
            ],
          },
          FILE,
        ),
      FILE,
      'servers[1].name',
    );
    assertConfigError(() => validateHerdConfig({ servers: [{ port: 1 }] }, FILE), FILE, 'servers[0].name');
    assertConfigError(() => validateHerdConfig({ servers: [] }, FILE), FILE, 'servers', 'at least one server');
    assertConfigError(() => validateHerdConfig({}, FILE), FILE, 'servers');
    assertConfigError(() => validateHerdConfig({ ...base(), links: [['Alford']] }, FILE), FILE, 'links[0]');
    assertConfigError(() => validateHerdConfig({ ...base(), logLevel: 'loud' }, FILE), FILE, 'logLevel');
    assertConfigError(
      () => validateHerdConfig({ ...base(), limits: { maxLineBytes: 0 } }, FILE),
      FILE,
      'limits.maxLineBytes',
    );
  });

  test('unknown keys are errors that name the key', () => {
    assertConfigError(
      () => validateHerdConfig({ ...base(), serverz: [] }, FILE),
      FILE,
      'unknown key "serverz" (did you mean "servers"?)',
    );
    assertConfigError(
      () => validateHerdConfig({ servers: [{ name: 'A', port: 1, prot: 2 }] }, FILE),
      FILE,
      'servers[0]: unknown key "prot" (did you mean "port"?)',
    );
    assertConfigError(
      () => validateHerdConfig({ ...base(), zzzzzz: 1 }, FILE),
      FILE,
      'unknown key "zzzzzz" (known keys are servers, links, places,',
    );
  });

  test('a mistyped key beside the required one it stands for names both', () => {
    assertConfigError(
      () => validateHerdConfig({ servers: [{ name: 'A', prot: 12000 }] }, FILE),
      FILE,
      'servers[0]: unknown key "prot": did you mean "port"? (port is required)',
    );
    assertConfigError(
      () => validateHerdConfig({ servers: [{ name: 'A' }] }, FILE),
      FILE,
      'servers[0].port: required (number), missing',
    );
  });

  test('a document that is not an object is an error', () => {
    assertConfigError(() => validateHerdConfig(42, FILE), FILE, '(top level)');
    assertConfigError(() => validateHerdConfig(null, FILE), FILE, '(top level)');
    assertConfigError(() => validateHerdConfig([], FILE), FILE, '(top level)');
  });
});
