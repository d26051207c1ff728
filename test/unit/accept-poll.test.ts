/**
 * The test helpers that wait for a restarted server: a file's growth (test/helpers/file-growth.ts)
 * and a connection the instant a port accepts, tried coarsely until the caller's sign
 * (test/helpers/loopback.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { whenFileGrows } from '../helpers/file-growth.js';
import { connectTheInstantItAccepts, freeLoopbackPort } from '../helpers/loopback.js';
import { tempFolder } from '../helpers/temp-folder.js';

describe('waiting for a restarted server', () => {
  const folder = tempFolder('herd-accept-poll-');

  test('whenFileGrows resolves once the file is longer than when it was called, not for what it held before', async () => {
    const file = path.join(folder.dir, 'server.log');
    writeFileSync(file, 'the last run\n');
    const watched = whenFileGrows(file);
    let grown = false;
    void watched.grown.then(() => (grown = true));
    // Settled promises run their callbacks within these turns: the file as it was is no sign.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(grown, false);
    appendFileSync(file, 'the restarted server\n');
    await watched.grown;
    assert.equal(grown, true);
    watched.close();
  });

  test('a file that cannot be watched leaves the sign pending, and close() is safe', async () => {
    const watched = whenFileGrows(path.join(folder.dir, 'no-such-dir', 'server.log'));
    let grown = false;
    void watched.grown.then(() => (grown = true));
    // A promise settled by the failed watch would have run its callback within these turns.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(grown, false);
    watched.close();
  });

  test('connectTheInstantItAccepts with a sign connects to a port that listens after it, and times out on one that never does', async () => {
    const port = await freeLoopbackPort();
    const server = net.createServer((socket) => socket.destroy());
    let sign = (): void => undefined;
    const near = new Promise<void>((resolve) => (sign = resolve));
    const connecting = connectTheInstantItAccepts(port, 10_000, near);
    sign();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const socket = await connecting;
      assert.ok(socket.acceptedAt > 0);
      socket.destroy();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const closed = await freeLoopbackPort();
    await assert.rejects(
      connectTheInstantItAccepts(closed, 50, new Promise(() => undefined)),
      /did not accept within 50 ms/,
    );
  });
});
