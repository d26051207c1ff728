/**
 * Herd config files (docs/protocol.md "The herd"): peer ports (their defaults and clashes), and
 * loading a config file from disk, with errors that name the file and the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { builtInHerdFile, loadHerdConfig, validateHerdConfig } from '../../src/config/herd-config.js';
import { ConfigError } from '../../src/errors.js';
import { FILE, assertConfigError, base } from '../helpers/config-fixtures.js';

describe('peer ports', () => {
  type Raw = { servers: Record<string, unknown>[]; links: [string, string][] };
  const two = (a: Record<string, unknown>, b: Record<string, unknown>): Raw => ({
    servers: [
      { name: 'A', ...a },
      { name: 'B', ...b },
    ],
    links: [['A', 'B']],
  });
  /** Asserts that servers A and B (`two(a, b)`) are refused with a ConfigError about `field` that says each of `parts`. */
  const assertTwoRefused = (
    a: Record<string, unknown>,
    b: Record<string, unknown>,
    field: string,
    ...parts: string[]
  ): void => assertConfigError(() => validateHerdConfig(two(a, b), FILE), FILE, field, ...parts);

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
    assertTwoRefused({ port: 60000 }, { port: 12001 }, 'servers[0].peerPort', '60000 + 10000 = 70000', 'set peerPort');
    assertTwoRefused({ port: 12000, peerPort: 65536 }, { port: 12001 }, 'servers[0].peerPort');
    // With an explicit peer port, a high client port is fine.
    assert.equal(validateHerdConfig(two({ port: 60000, peerPort: 20000 }, { port: 12001 }), FILE).servers.length, 2);
  });

  test('a port used twice among client, peer and admin ports on one host is an error naming the field', () => {
    assertTwoRefused(
      { port: 12000 },
      { port: 22000 },
      'servers[1].port',
      '127.0.0.1:22000 is also the peer port of "A"',
    );
    assertTwoRefused(
      { port: 12000, peerPort: 12000 },
      { port: 12001 },
      'servers[0].peerPort',
      'is also the client port of "A"',
    );
    assertTwoRefused(
      { port: 12000, adminPort: 22001 },
      { port: 12001 },
      'servers[1].peerPort',
      '127.0.0.1:22001 is also the admin port of "A"',
    );
    // A wildcard interface overlaps every host.
    assertTwoRefused(
      { host: '0.0.0.0', port: 12000 },
      { host: '10.0.0.2', port: 22000 },
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
    assertTwoRefused(
      { port: 12000, peerPort: 0, external: true },
      { port: 0 },
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
