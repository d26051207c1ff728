/**
 * A message to a server that has just died never ends the supervisor (src/cli/ipc.ts sendQuietly):
 * a real child is SIGKILLed, and while its channel still looks connected (the parent has not read
 * its end yet) a message is sent to it, as `herd start` does when another server comes back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { sendQuietly } from '../../src/cli/ipc.js';

/** Whether `pid` has died (a zombie its parent has not reaped yet, or gone), read without yielding. */
function hasDied(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('IPC to a child that has just died', () => {
  test('sendQuietly neither throws nor emits an error; the child exit is then seen as usual', async () => {
    const child = spawn(process.execPath, ['-e', "process.send('ready'); setInterval(() => {}, 1000)"], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const errors: Error[] = [];
    child.on('error', (error) => errors.push(error));
    const exited = once(child, 'exit');
    await once(child, 'message');
    child.kill('SIGKILL');
    // Wait without yielding to the event loop, so that Node cannot see the channel close first.
    const deadline = Date.now() + 10_000;
    while (!hasDied(child.pid as number)) assert.ok(Date.now() < deadline, 'the child did not die within 10 s');
    // The first send's failure comes back later and Node drops it; a send in the next turns, while
    // the channel still looks connected, fails at once (EPIPE), which Node emits as 'error' when the
    // sender gave no callback. Send as `herd start` would, on every turn, until the channel closes.
    const peers = { type: 'peers', addresses: {}, adminUrls: {} };
    let sends = 0;
    while (sendQuietly(child, peers)) {
      sends++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // The exit comes after the send's failure would have been emitted (both are queued behind it).
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
    assert.deepEqual(
      errors.map((error) => error.message),
      [],
      `${sends} sends`,
    );
    assert.equal(sendQuietly(child, { type: 'peers' }), false, 'a closed channel sends nothing');
  });
});
