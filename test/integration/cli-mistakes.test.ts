/**
 * A newcomer's mistakes through the real command line (`dist/bundle/main.js`, child processes): each
 * ends in one line on stderr that names the thing and says the fix, with the documented exit code
 * (2 usage or config, 1 run time; README "The command line"). Also `herd stop`, `herd --version`,
 * and `herd client`'s exit code and messages against a running herd. A message whose path (command,
 * exit code) another case here already runs in a child process is read in this process instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { PLACES_DATA_MAGIC, PREAMBLE_BYTES } from '../../src/places/offline/data-format.js';
import { RUNTIME_FILE_NAME } from '../../src/cli/runtime-file.js';
import { loadHerdConfig } from '../../src/config/herd-config.js';
import { importPlaces } from '../../src/places/import/import-places.js';
import { HerdError, exitCodeOf } from '../../src/errors.js';
import { ROOT, RunningHerd, tempHerdConfig, waitUntil } from '../helpers/herd-process.js';
import { assertOneLine, parseInProcess, runCli } from '../helpers/cli.js';
import { featureCollection, point } from '../helpers/places-fixtures.js';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** A TCP listener on 127.0.0.1, port chosen by the OS, that holds its port until closed. */
async function holdPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('user mistakes: one line on stderr and a documented exit code', { timeout: 120_000 }, () => {
  let temp: Awaited<ReturnType<typeof tempHerdConfig>>;
  let dir: string;
  const file = (name: string): string => path.join(dir, name);
  const held: { port: number; close: () => Promise<void> }[] = [];

  before(async () => {
    temp = await tempHerdConfig({ servers: ['Solo'], links: [] });
    dir = temp.dir;
    await writeFile(file('prot.json'), JSON.stringify({ servers: [{ name: 'A', prot: 12000 }] }));
    await writeFile(file('admin-typo.json'), JSON.stringify({ servers: [{ name: 'A', port: 12000, adminPrt: 1 }] }));
    await writeFile(file('bad.json'), '{\n  "servers": [\n    { "name": "A", "port": 12000, }\n  ]\n}\n');
    const pois = featureCollection([point(-118.44, 34.07, { name: 'Royce Hall' })]);
    await writeFile(file('pois.geojson'), pois);
    await writeFile(file('cut.geojson'), pois.slice(0, 100));
    await writeFile(file('no-name.geojson'), featureCollection([point(-118.44, 34.07, {})]));
    // A places data file of a format version this herd does not read.
    const old = Buffer.alloc(PREAMBLE_BYTES);
    old.write(PLACES_DATA_MAGIC, 0, 'latin1');
    old.writeUInt32LE(9, 8);
    await writeFile(file('old.places'), old);
  });
  after(async () => {
    for (const hold of held) await hold.close();
    await temp.cleanup();
  });

  test('usage: a mistyped option or command is one line with the nearest one (exit 2)', async () => {
    // One herd process for the path of a usage mistake (main.ts), the other messages in process.
    const [option, command, missing] = await Promise.all([
      parseInProcess(['start', '--no-restrat']),
      runCli(['stp']),
      parseInProcess(['places', 'import', file('pois.geojson')]),
    ]);
    assertOneLine(
      option,
      2,
      "herd start: unknown option '--no-restrat' (did you mean --no-restart?); see herd start --help",
    );
    assertOneLine(command, 2, "herd: unknown command 'stp' (did you mean stop?); see herd --help");
    assertOneLine(
      missing,
      2,
      "herd places import: required option '-o, --out <file>' not specified; see herd places import --help",
    );
  });

  test('config: a mistyped key gets "did you mean", bad JSON its line and column, a missing file the shipped herds (exit 2); a log folder that cannot be made (exit 1)', async () => {
    const [prot, bad, missing, logDir] = await Promise.all([
      runCli(['serve', 'A', '--config', file('prot.json')]),
      runCli(['status', '--config', file('bad.json')]),
      runCli(['start', '--config', file('nothere.json')]),
      runCli(['serve', 'Solo', '--config', temp.configFile, '--log-dir', file('bad.json/logs')]),
    ]);
    // A folder the system refuses is named by the system's own words, and the fix (exit 1).
    assertOneLine(
      logDir,
      1,
      `herd: ENOTDIR: not a directory, mkdir '${file('bad.json/logs')}'; a part of that path is a file, not a folder: give another folder`,
    );
    assertOneLine(
      prot,
      2,
      `herd: ${file('prot.json')}: servers[0]: unknown key "prot": did you mean "port"? (port is required)`,
    );
    // The same path as prot.json's (herd serve, a config key): its message read in process.
    assert.throws(
      () => loadHerdConfig(file('admin-typo.json')),
      (error: unknown) =>
        error instanceof HerdError &&
        exitCodeOf(error) === 2 &&
        error.message === `${file('admin-typo.json')}: servers[0]: unknown key "adminPrt" (did you mean "adminPort"?)`,
    );
    assertOneLine(
      bad,
      2,
      `herd: ${file('bad.json')}: bad JSON at line 3, column 35: a field name in double quotes was expected (JSON allows no comma before "}" or "]"): { "name": "A", "port": 12000, }`,
    );
    assertOneLine(
      missing,
      2,
      new RegExp(
        `^herd: ${escape(file('nothere.json'))}: no such file; give your herd's config with --config FILE, or run a shipped herd with --herd default\\|2019\\|2023 \\(in .*herds\\)$`,
      ),
    );
  });

  test('places data: a GeoJSON file or an old data file stops serve and start before anything listens (exit 2)', async () => {
    const [geojson, old] = await Promise.all([
      runCli(['serve', 'Solo', '--config', temp.configFile, '--places-data', file('pois.geojson')]),
      runCli(['start', '--config', temp.configFile, '--places-data', file('old.places')]),
    ]);
    assertOneLine(
      geojson,
      2,
      `herd: ${file('pois.geojson')}: not a places data file but an input of the importer: import it first (herd places import pois.geojson --out pois.places) and give pois.places instead`,
    );
    assert.equal(geojson.stdout, '', 'nothing listened');
    assertOneLine(
      old,
      2,
      `herd: ${file('old.places')}: format version 9, this herd reads version 1: import the data again`,
    );
    assert.equal(old.stdout, '', 'no server was started');
  });

  test('places import: a missing --out folder, a truncated GeoJSON, a feature without a name', async () => {
    const out = file('x.places');
    const [folder, cut] = await Promise.all([
      runCli(['places', 'import', file('pois.geojson'), '--out', file('nodir/x.places')]),
      runCli(['places', 'import', file('cut.geojson'), '--out', out]),
    ]);
    assertOneLine(
      folder,
      2,
      `herd: --out ${file('nodir/x.places')}: the folder ${file('nodir')} does not exist; create it (mkdir -p ${file('nodir')}) or give another --out`,
    );
    assertOneLine(
      cut,
      1,
      `herd: ${file('cut.geojson')}: feature 0: the file ends after 100 bytes, inside the JSON (truncated? export or download it again)`,
    );
    // The same path as the truncated file's (a malformed input, exit 1): its message read in process.
    await assert.rejects(
      importPlaces({ inputs: [file('no-name.geojson')], out }),
      (error: unknown) =>
        error instanceof HerdError &&
        exitCodeOf(error) === 1 &&
        error.message ===
          `${file('no-name.geojson')}: feature 0: properties.name: required: a non-empty string of at most 4096 bytes; fix it, or run again with --skip-invalid to skip and count such features`,
    );
    assert.equal(existsSync(out), false, 'nothing written');
  });

  test("a port in use: serve names the port and its role, start prints the failing server's reason (exit 1)", async () => {
    const client = await holdPort();
    const peer = await holdPort();
    held.push(client, peer);
    const config = (name: string, servers: object[]): Promise<string> =>
      writeFile(file(name), JSON.stringify({ servers, logDir: file('logs'), dataDir: file('data') })).then(() =>
        file(name),
      );
    const clientTaken = await config('client-taken.json', [{ name: 'Zed', port: client.port, peerPort: 0 }]);
    const peerTaken = await config('peer-taken.json', [{ name: 'Zed', port: 0, peerPort: peer.port }]);
    const pair = await config('pair.json', [
      { name: 'Zed', port: 0 },
      // Its peer port from the system: the default (client port + 10000) is no port the test holds, and
      // another process may have it.
      { name: 'Yan', port: client.port, peerPort: 0 },
    ]);
    const [serveClient, servePeer, start] = await Promise.all([
      runCli(['serve', 'Zed', '--config', clientTaken]),
      runCli(['serve', 'Zed', '--config', peerTaken]),
      runCli(['start', '--config', pair]),
    ]);
    const inUse = (who: string, role: string, port: number, configFile: string): RegExp =>
      new RegExp(
        `^herd: ${who}: ${role} port 127\\.0\\.0\\.1:${port} is already in use \\(EADDRINUSE\\): another process holds it, often a herd already running \\(herd status --config ${escape(configFile)} shows it, herd stop --config ${escape(configFile)} stops it\\); find the process with ss -ltnp 'sport = :${port}', or set another \\w+ in the config \\(or --[\\w-]+\\)$`,
      );
    assertOneLine(serveClient, 1, inUse('Zed', 'client', client.port, clientTaken));
    assert.match(serveClient.stderr, /another port in the config \(or --port\)/);
    assertOneLine(servePeer, 1, inUse('Zed', 'peer', peer.port, peerTaken));
    assert.match(servePeer.stderr, /another peerPort in the config \(or --peer-port\)/);
    assertOneLine(start, 1, inUse('Yan', 'client', client.port, pair));
    assert.match(start.stdout, /^herd: starting 2 servers of /m);
    // Zed was stopped because Yan failed: a clean stop, not an error of its own.
    const zedLog = await readFile(file('logs/Zed.log'), 'utf8');
    assert.doesNotMatch(zedLog, /"level":50/, 'no error logged by the server stopped after its sibling failed');
  });

  test('herd client names the server it cannot reach and suggests herd status (exit 1)', async () => {
    const gone = await holdPort();
    await gone.close();
    const configFile = file('down.json');
    await writeFile(configFile, JSON.stringify({ servers: [{ name: 'Alford', port: gone.port }] }));
    const result = await runCli(['client', 'Alford', 'WHATSAT x 1 1', '--config', configFile]);
    assertOneLine(
      result,
      1,
      `herd client: cannot connect to Alford (127.0.0.1:${gone.port}): nothing listens there (ECONNREFUSED); is the herd running? herd status --config ${configFile} shows it`,
    );
  });

  test('a reader that stops early (herd --help | head -1) ends the command quietly, with its own exit code', async () => {
    const results = await Promise.all([
      runCli(['--help'], { stdoutClosed: true }),
      runCli(['--version'], { stdoutClosed: true }),
      runCli(['help', 'serve'], { stdoutClosed: true }),
    ]);
    for (const result of results) assert.deepEqual([result.code, result.stderr], [0, ''], JSON.stringify(result));
  });

  test("herd --version and herd version print the package version and Node's", async () => {
    // The flag in process (commander prints it); the process's --version runs in the test above.
    const [flag, command] = await Promise.all([parseInProcess(['--version']), runCli(['version'])]);
    for (const result of [flag, command]) {
      assert.equal(result.stdout, `herd ${VERSION} (Node.js ${process.version})\n`);
      assert.equal(result.code, 0);
    }
  });
});

describe('herd client, herd status and herd stop against a running herd', { timeout: 120_000 }, () => {
  let temp: Awaited<ReturnType<typeof tempHerdConfig>>;
  let herd: RunningHerd;
  let tlsServer: tls.Server;
  let tlsPort: number;

  before(async () => {
    temp = await tempHerdConfig({ servers: ['Solo'], links: [] });
    herd = await RunningHerd.start(temp.configFile);
    const fixture = (name: string): Buffer => readFileSync(path.join(ROOT, 'test', 'fixtures', 'tls', name));
    tlsServer = tls.createServer({ cert: fixture('herd-test.crt'), key: fixture('herd-test.key') }, (socket) =>
      socket.end(),
    );
    tlsServer.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    tlsPort = (tlsServer.address() as net.AddressInfo).port;
  });
  after(async () => {
    await herd.stop();
    await new Promise((resolve) => tlsServer.close(resolve));
    await temp.cleanup();
  });

  test('"starting 1 server", and a second herd start of the same config says it already runs (exit 1)', async () => {
    assert.ok(
      herd.output.some((line) => line.startsWith('herd: starting 1 server of ')),
      herd.output.join('\n'),
    );
    assert.ok(herd.output.some((line) => /^herd: 1 server up in \d+ ms; Ctrl-C stops it$/.test(line)));
    const again = await runCli(['start', '--config', temp.configFile]);
    assertOneLine(
      again,
      1,
      new RegExp(
        `^herd: this herd is already running \\(herd start pid \\d+, .*${RUNTIME_FILE_NAME}\\): herd status --config ${escape(temp.configFile)} shows it, herd stop --config ${escape(temp.configFile)} stops it$`,
      ),
    );
  });

  test('herd client exits 1 on a "? " reply and says where the reason is; a peer port and a TLS port are told apart', async () => {
    const solo = herd.servers.get('Solo');
    assert.ok(solo !== undefined);
    const [refused, ok, peer, tlsPortReply] = await Promise.all([
      runCli(['client', 'Solo', 'WHATSAT nobody 10 5', '--config', temp.configFile]),
      runCli([
        'client',
        'Solo',
        `IAMAT kiwi +34.068930-118.445127 ${Math.floor(Date.now() / 1000)}`,
        '--config',
        temp.configFile,
      ]),
      runCli(['client', `127.0.0.1:${solo.peerPort}`, 'WHATSAT nobody 10 5']),
      runCli(['client', `127.0.0.1:${tlsPort}`, 'WHATSAT nobody 10 5']),
    ]);
    assert.equal(refused.stdout, '? WHATSAT nobody 10 5\n');
    assertOneLine(
      refused,
      1,
      `herd client: a reply was "? " (the server did not accept the line); its log gives the reason of each: grep '"reply":"? ' ${solo.logFile}`,
    );
    assert.match(ok.stdout, /^AT Solo /);
    assert.equal(ok.stderr, '');
    assert.equal(ok.code, 0);
    assertOneLine(
      peer,
      1,
      `herd client: 127.0.0.1:${solo.peerPort} closed the connection without a reply: this looks like a peer port (it closes on a first line that is not HELLO); send client commands to the server's client port (herd status lists them)`,
    );
    assertOneLine(
      tlsPortReply,
      1,
      `herd client: 127.0.0.1:${tlsPort} closed the connection without a reply: it is a TLS port; add --tls (and --ca FILE to verify it)`,
    );
    // The log is written in batches (at least every 100 ms): wait for the line, not for a moment.
    const reason = /"reply":"\? WHATSAT nobody 10 5","outcome":"unknown_client","reason":"/;
    await waitUntil(async () => reason.test(await readFile(solo.logFile, 'utf8')), 5000, 'the reason in the log');
  });

  test('herd stop stops it and waits; then status, stop and client say nothing runs', async () => {
    const stop = await runCli(['stop', '--config', temp.configFile]);
    assert.equal(stop.stderr, '');
    assert.equal(stop.code, 0);
    assert.match(
      stop.stdout,
      new RegExp(
        `^herd: stopping the herd of ${escape(temp.configFile)} \\(herd start pid \\d+, 1 server\\)\nherd: stopped in \\d+ ms\n$`,
      ),
    );
    assert.ok(herd.output.includes('herd: all servers stopped'), herd.output.join('\n'));
    assert.equal(existsSync(path.join(temp.dir, 'logs', RUNTIME_FILE_NAME)), false, 'runtime file removed');
    const solo = herd.servers.get('Solo');
    assert.ok(solo !== undefined);
    const [status, again, client] = await Promise.all([
      runCli(['status', '--config', temp.configFile]),
      runCli(['stop', '--config', temp.configFile]),
      runCli(['client', `127.0.0.1:${solo.port}`, 'WHATSAT nobody 10 5', '--config', temp.configFile]),
    ]);
    assertOneLine(
      status,
      1,
      `herd: no herd of ${temp.configFile} is running (no herd start of it, and none of its 1 server answers); herd start --config ${temp.configFile} starts it`,
    );
    assert.equal(status.stdout, '');
    assertOneLine(
      again,
      0,
      new RegExp(
        `^herd: no herd of ${escape(temp.configFile)} is running \\(no live herd start in .*\\); nothing to stop`,
      ),
    );
    assertOneLine(
      client,
      1,
      `herd client: cannot connect to 127.0.0.1:${solo.port}: nothing listens there (ECONNREFUSED); is the herd running? herd status --config ${temp.configFile} shows it`,
    );
  });
});
