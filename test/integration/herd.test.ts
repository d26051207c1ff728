/**
 * The herd over real processes started through the CLI (issue "The herd runs"): flooding, reply
 * order, half-close, invalid commands, a SIGKILLed member and its return.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_SERVERS,
  RunningHerd,
  TEST_HERD_SECRET,
  atLineAt,
  exchange,
  tempHerdConfig,
  waitUntil,
} from '../helpers/herd-process.js';

const AT_LINE = /^AT (\S+) ([+-]\d+\.\d{9}) (\S+) (\S+) (\S+)$/;

describe('a five-server herd started with herd start', { timeout: 180_000 }, () => {
  let herd: RunningHerd;
  let cleanup: () => Promise<void>;

  before(async () => {
    const temp = await tempHerdConfig();
    cleanup = temp.cleanup;
    herd = await RunningHerd.start(temp.configFile, ['--restart-delay', '100']);
  });

  after(async () => {
    await herd?.stop();
    await cleanup?.();
  });

  test('herd start reports every server with a real port, pid and log file', () => {
    assert.deepEqual([...herd.servers.keys()].sort(), [...DEFAULT_SERVERS].sort());
    for (const info of herd.servers.values()) {
      assert.ok(info.port > 0 && info.port < 65536, `${info.name} port ${info.port}`);
      assert.match(info.logFile, new RegExp(`${info.name}\\.log$`));
    }
  });

  test('an IAMAT at one server is answered by WHATSAT at every other with the same AT line', async () => {
    const reply = await exchange(
      herd.port('Alford'),
      'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503\n',
    );
    const match = AT_LINE.exec(reply.trimEnd());
    assert.ok(match, `AT reply: ${JSON.stringify(reply)}`);
    assert.equal(match[1], 'Alford');
    assert.equal(match[3], 'kiwi.cs.ucla.edu');
    assert.equal(match[4], '+34.068930-118.445127');
    assert.equal(match[5], '1621464827.959498503');
    const atLine = reply.trimEnd();
    for (const name of DEFAULT_SERVERS) {
      await waitUntil(
        async () => (await atLineAt(herd.port(name), 'kiwi.cs.ucla.edu')) === atLine,
        10_000,
        `${name} to hold the AT line`,
      );
    }
    const whatsat = await exchange(herd.port('Ball'), 'WHATSAT kiwi.cs.ucla.edu 10 5\n');
    assert.ok(whatsat.startsWith(`${atLine}\n{\n`), whatsat.slice(0, 200));
    assert.ok(whatsat.endsWith('}\n\n') && !whatsat.endsWith('\n\n\n'), 'reply ends in exactly one empty line');
    const json = JSON.parse(whatsat.slice(atLine.length + 1)) as {
      status: string;
      results: { name: string; place_id: string }[];
    };
    assert.equal(json.status, 'OK');
    assert.ok(json.results.length >= 1 && json.results.length <= 5);
    assert.ok(
      json.results.some((place) => place.name === 'Santa Monica'),
      'Santa Monica is within 10 km of UCLA',
    );
  });

  test('pipelined WHATSAT then IAMAT on one connection are answered in order', async () => {
    await exchange(herd.port('Hamilton'), 'IAMAT pipe-a +51.5072-000.1276 1700000000.5\n');
    const reply = await exchange(
      herd.port('Hamilton'),
      'WHATSAT pipe-a 5 3\nIAMAT pipe-b +35.6762+139.6503 1700000001\nWHATSAT pipe-b 5 1\n',
    );
    const parts = reply.split('\n');
    assert.match(parts[0] ?? '', /^AT Hamilton \S+ pipe-a \+51\.5072-000\.1276 1700000000\.5$/);
    const afterFirstJson = reply.indexOf('}\n\n') + 3;
    assert.match(
      reply.slice(afterFirstJson),
      /^AT Hamilton \S+ pipe-b \+35\.6762\+139\.6503 1700000001\nAT Hamilton \S+ pipe-b/,
    );
  });

  test('a client that half-closes right after writing gets every reply, including a last line without terminator', async () => {
    const reply = await exchange(herd.port('Holiday'), [
      'IAMAT half-1 +10-010 1700000000\r\n',
      '\n   \t\n',
      'IAMAT half-2 +20-020 1700000000\n',
      'IAMAT half-3 +30-030 1700000000',
    ]);
    const lines = reply.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', / half-1 \+10-010 1700000000$/);
    assert.match(lines[1] ?? '', / half-2 \+20-020 1700000000$/);
    assert.match(lines[2] ?? '', / half-3 \+30-030 1700000000$/);
  });

  test('invalid commands get "? " and the line as received, once each, and nothing else', async () => {
    const lines = [
      'HELLO',
      'IAMAT only-two-operands +10-010',
      'IAMAT x +91-010 1700000000',
      'IAMAT x +10-010 1700000000.1234567890',
      'WHATSAT never-heard-of-me 10 5',
      'WHATSAT kiwi.cs.ucla.edu 51 5',
      'WHATSAT kiwi.cs.ucla.edu 10 21',
      'AT Alford +0.000000000 forged +10-010 1700000000',
      '  iamat lower case +10-010 1700000000  ',
    ];
    const reply = await exchange(herd.port('Welsh'), `${lines.join('\r\n')}\r\n`);
    assert.equal(reply, lines.map((line) => `? ${line}\n`).join(''));
    // The forged AT from a plain client changed nothing.
    assert.equal(await atLineAt(herd.port('Welsh'), 'forged'), undefined);
  });

  test('a SIGKILLed server leaves the others answering and flooding; after the restart its links return', async () => {
    // Ball stays down for the checks however slow the machine (RunningHerd.whileDown).
    await herd.whileDown(['Ball'], async () => {
      // Ball sits between Welsh and Holiday in the ring; the other four stay connected through Alford-Hamilton-Holiday.
      const reply = await exchange(herd.port('Welsh'), 'IAMAT while-ball-down +40.7128-074.0060 1700000100\n');
      const atLine = reply.trimEnd();
      assert.match(atLine, /^AT Welsh /);
      for (const name of ['Alford', 'Hamilton', 'Holiday', 'Welsh']) {
        await waitUntil(
          async () => (await atLineAt(herd.port(name), 'while-ball-down')) === atLine,
          3000,
          `${name} to get the update while Ball is down`,
        );
      }
    });
    assert.ok(
      herd.output.some((line) => /^herd: Ball exited \(signal SIGKILL\)/.test(line)),
      'the supervisor saw Ball killed',
    );
    const second = (
      await exchange(herd.port('Alford'), 'IAMAT after-ball-back +48.8566+002.3522 1700000200\n')
    ).trimEnd();
    for (const name of DEFAULT_SERVERS) {
      await waitUntil(
        async () => (await atLineAt(herd.port(name), 'after-ball-back')) === second,
        10_000,
        `${name} to get the update after Ball returned`,
      );
    }
    const log = await readFile(herd.servers.get('Welsh')?.logFile ?? '', 'utf8');
    assert.match(log, /"event":"link-status".*"to":"backoff"/, 'Welsh logged its link to Ball going down');
    assert.match(
      log,
      /"event":"peer-connected".*"peer":"Ball".*"authenticated":true/,
      'links are authenticated with the herd secret',
    );
    assert.ok(!log.includes(TEST_HERD_SECRET), 'the herd secret never reaches a log');
  });
});
