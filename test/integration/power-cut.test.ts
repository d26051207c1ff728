/**
 * Nothing lost (docs/operations.md guarantees): whole-herd power cuts (SIGKILL of every process) with
 * and without `sync`, and a corrupt store file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FAST_PEERS, assertConverged, type Expected } from '../helpers/convergence.js';
import {
  DEFAULT_SERVERS,
  RunningHerd,
  exchange,
  readTable,
  tempHerdConfig,
  waitUntil,
} from '../helpers/herd-process.js';
// The store is every claim here, so it stays durable; the log lines read are errors: quiet logs.
import { QUIET_LOG } from '../helpers/herd-config-options.js';

describe('whole-herd power cut', { timeout: 400_000 }, () => {
  test('SIGKILL of every process keeps each update acknowledged before the last commit interval', async () => {
    const temp = await tempHerdConfig({
      admin: true,
      extra: { peer: FAST_PEERS, store: { commitIntervalMs: 50 }, ...QUIET_LOG },
    });
    let herd = await RunningHerd.start(temp.configFile);
    const expected: Expected = new Map();
    try {
      for (let i = 0; i < 100; i++) {
        const server = DEFAULT_SERVERS[i % DEFAULT_SERVERS.length] as string;
        const time = `${1_700_000_000 + i}.5`;
        const reply = await exchange(herd.port(server), `IAMAT cut-${i} +10.${i}-020.${i} ${time}\n`);
        assert.match(reply, /^AT /);
        expected.set(`cut-${i}`, { location: `+10.${i}-020.${i}`, time });
      }
      // Everything above was acknowledged more than a commit interval (50 ms) ago, and flooded.
      await assertConverged(herd, expected);
      // Every server has committed what it holds (its /status shows no pending row), so the cut
      // comes after the last commit of each.
      for (const info of herd.servers.values()) {
        await waitUntil(
          async () => {
            const status = (await (await fetch(`${info.adminUrl}/status`)).json()) as {
              store?: { pendingRows?: number };
            };
            return status.store?.pendingRows === 0;
          },
          10_000,
          `${info.name} to commit`,
        );
      }
      await herd.killAll();
      herd = await RunningHerd.start(temp.configFile);
      // Read at once: each server must have it from its own store, before any anti-entropy.
      for (const name of DEFAULT_SERVERS) {
        const table = await readTable(herd.port(name), [...expected.keys()]);
        assert.equal(table.size, expected.size, `${name} kept ${table.size} of ${expected.size} after the power cut`);
      }
    } finally {
      await herd.stop();
      await temp.cleanup();
    }
  });

  test('a server whose store file is corrupt starts anyway, says so, and is caught up by its peers', async () => {
    const temp = await tempHerdConfig({ extra: { peer: FAST_PEERS, ...QUIET_LOG } });
    const herd = await RunningHerd.start(temp.configFile);
    const expected: Expected = new Map([['kept', { location: '+5+5', time: '1700000000' }]]);
    try {
      assert.match(await exchange(herd.port('Alford'), 'IAMAT kept +5+5 1700000000\n'), /^AT /);
      await assertConverged(herd, expected);
      // Ball stopped (SIGTERM: its store committed and closed), its file made garbage while it is
      // down, then restarted by the supervisor; the others run on, holding what it must get back.
      const ball = herd.servers.get('Ball')?.pid ?? -1;
      await herd.whileDown(
        ['Ball'],
        () => writeFile(path.join(temp.dir, 'data', 'Ball.sqlite'), Buffer.alloc(8192, 0x5a)),
        () => {
          process.kill(ball, 'SIGTERM');
        },
      );
      await assertConverged(herd, expected);
      // The restarted Ball's log lines reach its file after it listens (an asynchronous writer).
      const logFile = herd.servers.get('Ball')?.logFile ?? '';
      await waitUntil(
        async () => /"event":"store-corrupt"/.test(await readFile(logFile, 'utf8')),
        10_000,
        "store-corrupt in Ball's log",
      );
    } finally {
      await herd.stop();
      await temp.cleanup();
    }
  });

  test('in sync mode every acknowledged update survives a SIGKILL right after its acknowledgement', async () => {
    // A long commit interval makes the window obvious: without sync these would be lost.
    const temp = await tempHerdConfig({
      extra: { peer: FAST_PEERS, store: { commitIntervalMs: 300, sync: true }, ...QUIET_LOG },
    });
    let herd = await RunningHerd.start(temp.configFile);
    const expected: Expected = new Map();
    try {
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) => {
          const server = DEFAULT_SERVERS[i % DEFAULT_SERVERS.length] as string;
          const time = `${1_700_000_000 + i}`;
          expected.set(`sync-${i}`, { location: '+45.0+007.0', time });
          return exchange(herd.port(server), `IAMAT sync-${i} +45.0+007.0 ${time}\n`);
        }),
      );
      for (const reply of replies) assert.match(reply, /^AT /);
      await herd.killAll();
      herd = await RunningHerd.start(temp.configFile);
      await assertConverged(herd, expected);
    } finally {
      await herd.stop();
      await temp.cleanup();
    }
  });
});
