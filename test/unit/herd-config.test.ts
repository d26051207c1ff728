/**
 * Herd config files (docs/protocol.md "The herd"): the three shipped herds and their topologies,
 * defaults (the peer port among them), and errors that name the file and the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
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
import { ConfigError } from '../../src/errors.js';
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

const FILE = 'herds/test.json';

/** A valid three-server config to break one field at a time. */
function base(): { servers: { name: string; host?: string; port: number }[]; links: [string, string][] } {
  return {
    servers: [
      { name: 'Alford', port: 12000 },
      { name: 'Ball', port: 12001 },
      { name: 'Hamilton', port: 12002 },
    ],
    links: [
      ['Alford', 'Ball'],
      ['Ball', 'Hamilton'],
    ],
  };
}

/** Asserts a ConfigError for `file` whose message starts with `file: field` and contains `parts`. */
function assertConfigError(fn: () => unknown, file: string, field: string, ...parts: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    assert.equal(error.code, 'HERD_CONFIG_INVALID');
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.file, file);
    assert.ok(error.message.startsWith(`${file}: ${field}`), error.message);
    for (const part of parts)
      assert.ok(error.message.includes(part), `${JSON.stringify(part)} not in: ${error.message}`);
    return true;
  });
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

describe('peer ports', () => {
  type Raw = { servers: Record<string, unknown>[]; links: [string, string][] };
  const two = (a: Record<string, unknown>, b: Record<string, unknown>): Raw => ({
    servers: [
      { name: 'A', ...a },
      { name: 'B', ...b },
    ],
    links: [['A', 'B']],
  });

  test('peerPort defaults to port + 10000 (0 for port 0), peerHost to host', () => {
    const config = validateHerdConfig(two({ port: 12000 }, { host: '10.0.0.2', port: 0 }), FILE);
    assert.equal(config.servers[0]?.peerPort, 22000);
    assert.equal(config.servers[0]?.peerHost, '127.0.0.1');
    assert.equal(config.servers[1]?.peerPort, 0);
    assert.equal(config.servers[1]?.peerHost, '10.0.0.2');
    const explicit = validateHerdConfig(
      two({ port: 12000, peerPort: 7000, peerHost: '10.9.0.1' }, { port: 12001 }),
      FILE,
    );
    assert.equal(explicit.servers[0]?.peerPort, 7000);
    assert.equal(explicit.servers[0]?.peerHost, '10.9.0.1');
  });

  test('the shipped default herd has client ports 12000-12004 and peer ports 22000-22004', () => {
    const config = loadHerdConfig(builtInHerdFile('default'));
    assert.deepEqual(
      config.servers.map((server) => [server.port, server.peerPort]),
      [0, 1, 2, 3, 4].map((i) => [12000 + i, 22000 + i]),
    );
  });

  test('a default peer port over 65535 is an error asking for peerPort', () => {
    assertConfigError(
      () => validateHerdConfig(two({ port: 60000 }, { port: 12001 }), FILE),
      FILE,
      'servers[0].peerPort',
      '60000 + 10000 = 70000',
      'set peerPort',
    );
    assertConfigError(
      () => validateHerdConfig(two({ port: 12000, peerPort: 65536 }, { port: 12001 }), FILE),
      FILE,
      'servers[0].peerPort',
    );
    // With an explicit peer port, a high client port is fine.
    assert.equal(validateHerdConfig(two({ port: 60000, peerPort: 20000 }, { port: 12001 }), FILE).servers.length, 2);
  });

  test('a port used twice among client, peer and admin ports on one host is an error naming the field', () => {
    assertConfigError(
      () => validateHerdConfig(two({ port: 12000 }, { port: 22000 }), FILE),
      FILE,
      'servers[1].port',
      '127.0.0.1:22000 is also the peer port of "A"',
    );
    assertConfigError(
      () => validateHerdConfig(two({ port: 12000, peerPort: 12000 }, { port: 12001 }), FILE),
      FILE,
      'servers[0].peerPort',
      'is also the client port of "A"',
    );
    assertConfigError(
      () => validateHerdConfig(two({ port: 12000, adminPort: 22001 }, { port: 12001 }), FILE),
      FILE,
      'servers[1].peerPort',
      '127.0.0.1:22001 is also the admin port of "A"',
    );
    // A wildcard interface overlaps every host.
    assertConfigError(
      () => validateHerdConfig(two({ host: '0.0.0.0', port: 12000 }, { host: '10.0.0.2', port: 22000 }), FILE),
      FILE,
      'servers[1].port',
      'peer port of "A"',
    );
    // Links on a private interface may reuse a number that clients use elsewhere.
    assert.equal(
      validateHerdConfig(two({ port: 12000, peerHost: '10.0.0.1', peerPort: 12001 }, { port: 12001 }), FILE).servers
        .length,
      2,
    );
  });

  test('an external server needs real client and peer ports', () => {
    assertConfigError(
      () => validateHerdConfig(two({ port: 12000, peerPort: 0, external: true }, { port: 0 }), FILE),
      FILE,
      'servers[0].peerPort',
      'external server "A" needs a real port',
    );
  });
});

describe('loadHerdConfig', () => {
  let dir = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'herd-config-test-'));
  });

  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  test('loads a valid file', async () => {
    const file = path.join(dir, 'ok.json');
    await writeFile(file, JSON.stringify(base()));
    const config = loadHerdConfig(file);
    assert.deepEqual(
      config.servers.map((s) => s.name),
      ['Alford', 'Ball', 'Hamilton'],
    );
  });

  test('a missing file is an error naming the file', () => {
    const file = path.join(dir, 'missing.json');
    assertConfigError(() => loadHerdConfig(file), file, 'no such file', '--config FILE', '--herd default|2019|2023');
    const nearly = path.join(dir, 'defualt.json');
    assertConfigError(() => loadHerdConfig(nearly), nearly, 'no such file', 'did you mean --herd default?');
  });

  test('a file that is not JSON is an error naming the file', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{ "servers": [ { "name": "A", "port": 1 }, ] ');
    assertConfigError(
      () => loadHerdConfig(file),
      file,
      'bad JSON at line 1, column 44: a value was expected (JSON allows no comma before "}" or "]"): { "servers": [',
    );
    await writeFile(file, '{\n  "servers": [\n    { name: "A", "port": 1 }\n  ]\n}\n');
    assertConfigError(() => loadHerdConfig(file), file, 'bad JSON at line 3, column 7', ': { name: "A", "port": 1 }');
    await writeFile(file, '{ "servers": [');
    assertConfigError(() => loadHerdConfig(file), file, 'bad JSON at line 1, column 15: the file ends early');
  });

  test('an invalid file is an error naming the file and the field', async () => {
    const file = path.join(dir, 'invalid.json');
    const raw = base();
    raw.links.push(['Alford', 'Balll']);
    await writeFile(file, JSON.stringify(raw, null, 2));
    assertConfigError(() => loadHerdConfig(file), file, 'links[2][1]: unknown server "Balll"');
  });

  test('the error keeps its cause', () => {
    assert.throws(
      () => loadHerdConfig(path.join(dir, 'missing.json')),
      (error: unknown) =>
        error instanceof ConfigError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT',
    );
  });
});
