/**
 * `herd start --places google-new` over real processes against a fake Google
 * (test/helpers/fake-google.ts): WHATSAT answered in the legacy format and with an error within the
 * configured timeout, a refusal to start without a key, and no key in any log or output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { NEW_OK, NEW_OK_AS_LEGACY, TEST_API_KEY } from '../helpers/google-fixtures.js';
import { FakeGoogle, hang, json } from '../helpers/fake-google.js';
import { KeyWatch, assertRequests, replyOf } from '../helpers/google-rig.js';
import { RunningHerd, exchange, tempHerdConfig } from '../helpers/herd-process.js';
import { runCli } from '../helpers/cli.js';

const watch = new KeyWatch();
/** The herd's Google time budget: long enough for a loaded machine, short enough for the hang case. */
const CLI_TIMEOUT_MS = 1500;

describe('herd start --places google-new (real processes)', { timeout: 120_000 }, () => {
  let fake: FakeGoogle;
  let herd: RunningHerd | undefined;
  let dir = '';

  before(async () => {
    fake = await FakeGoogle.start('new', '/places-proxy');
    const temp = await tempHerdConfig({
      servers: ['Alford', 'Ball'],
      links: [['Alford', 'Ball']],
      extra: { places: { source: 'offline', timeoutMs: CLI_TIMEOUT_MS } },
    });
    dir = temp.dir;
    watch.tempDirs.push(temp.dir);
    watch.logDirs.push(path.join(temp.dir, 'logs'));
    herd = await RunningHerd.start(temp.configFile, ['--places', 'google-new'], {
      ...process.env,
      GOOGLE_PLACES_API_KEY: TEST_API_KEY,
      GOOGLE_PLACES_NEW_URL: fake.baseUrl,
    });
  });
  after(async () => {
    await herd?.stop();
    watch.printed.push(...(herd?.output ?? []));
    await fake?.close();
    // The log scan at the end reads these logs: the folder goes in the file's last `after`.
  });

  test('WHATSAT answers from Places API (New) in the legacy format, and with an error within the timeout', async () => {
    assert.ok(herd !== undefined);
    const at = (await exchange(herd.port('Alford'), 'IAMAT cli-client +34.068930-118.445127 1700000000\n')).trimEnd();
    assert.match(at, /^AT Alford [+-]\d+\.\d{9} cli-client \+34\.068930-118\.445127 1700000000$/);
    fake.answer({ radiusMeters: 2000, limit: 3 }, json(200, NEW_OK));
    const ok = await exchange(herd.port('Alford'), 'WHATSAT cli-client 2 3\n');
    assert.equal(ok, replyOf(at, { ...NEW_OK_AS_LEGACY, results: NEW_OK_AS_LEGACY.results.slice(0, 3) }));
    assertRequests(fake, 1);

    fake.answer({ radiusMeters: 2000, limit: 3 }, hang);
    const started = performance.now();
    const failed = await exchange(herd.port('Alford'), 'WHATSAT cli-client 2 3\n');
    const ms = performance.now() - started;
    assert.equal(
      failed,
      `${at}\n{\n   "error_message" : "Google Places API (New) did not answer within ${CLI_TIMEOUT_MS} ms",\n   "html_attributions" : [],\n   "results" : [],\n   "status" : "UNKNOWN_ERROR"\n}\n\n`,
    );
    assert.ok(ms >= CLI_TIMEOUT_MS - 5 && ms < CLI_TIMEOUT_MS + 1000, `answered after ${ms} ms`);
    assertRequests(fake, 1);
  });

  test('without GOOGLE_PLACES_API_KEY, herd start and herd serve refuse to start: exit 2 and a clear message', async () => {
    fake.answer({ radiusMeters: 0, limit: 0 });
    const env: NodeJS.ProcessEnv = { ...process.env, GOOGLE_PLACES_NEW_URL: fake.baseUrl };
    delete env.GOOGLE_PLACES_API_KEY;
    const configFile = path.join(dir, 'herd.json');
    for (const args of [
      ['start', '--config', configFile, '--places', 'google-new'],
      ['serve', 'Ball', '--config', configFile, '--places', 'google'],
    ]) {
      const { code, stdout, stderr } = await runCli(args, { env });
      const source = args.includes('google') ? 'google' : 'google-new';
      assert.equal(
        stderr,
        `herd: places source ${source} needs a Google API key: set the environment variable GOOGLE_PLACES_API_KEY (see docs/places.md)\n`,
      );
      assert.equal(code, 2, `${args[0]} exit code`);
      assert.equal(stdout, '', `${args[0]} started nothing`);
    }
    assertRequests(fake, 0);
  });
});

describe('the key never leaks', { timeout: 60_000 }, () => {
  test('no log file and no CLI output contains the API key', async () => {
    await watch.assertNoKeyLeaked(2, 2);
  });
});

after(async () => {
  await watch.cleanup();
});
