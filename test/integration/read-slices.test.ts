/**
 * Reads in slices (src/core/read-slices.ts): a client that pipelines a large backlog on one connection
 * no longer holds the event loop until the whole backlog is handled. Its reads stop for the turn once
 * the turn's slice is spent, every line is still answered in order, and another client's command sent
 * meanwhile is answered before the backlog is done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOOP_OBSERVER, composeObservers } from '../../src/observability/observer.js';
import { READ_SLICES } from '../../src/core/read-slices.js';
import { withServer } from '../helpers/one-server.js';
import { openLineClient } from '../helpers/line-client.js';

const BACKLOG_LINES = 8_000;

/** Resolves when `lines` has `count` lines. */
async function waitForLines(lines: string[], count: number): Promise<void> {
  while (lines.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('a pipelined backlog is read in slices: all answered in order, another client answered meanwhile', async () => {
  // Each command costs at least 20 us (a busy observer), so that one 64 KiB chunk (about 1,100 lines)
  // spends the slice whatever the machine's speed.
  const slow = composeObservers(NOOP_OBSERVER, {
    command: () => {
      const until = performance.now() + 0.02;
      while (performance.now() < until) {
        // Work per command.
      }
    },
  });
  await withServer({ observer: slow }, async (_server, port) => {
    const backlog = await openLineClient(port);
    const other = await openLineClient(port);
    const pausesBefore = READ_SLICES.pauses;
    const lines = Array.from({ length: BACKLOG_LINES }, (_, i) => `WHATSAT backlog-client-${i} 10 1`);
    backlog.socket.write(`${lines.join('\n')}\n`);
    // Once the first replies are back, the other client asks; the backlog is far from done by then.
    await waitForLines(backlog.lines, 1);
    other.socket.write('WHATSAT other-client 10 1\n');
    await waitForLines(other.lines, 1);
    const backlogDoneBefore = backlog.lines.length;
    await waitForLines(backlog.lines, BACKLOG_LINES);
    assert.deepEqual(
      backlog.lines,
      lines.map((line) => `? ${line}`),
      'every line answered, in order',
    );
    assert.equal(other.lines[0], '? WHATSAT other-client 10 1');
    assert.ok(
      backlogDoneBefore < BACKLOG_LINES,
      `the other client was answered while the backlog was read (${backlogDoneBefore} of ${BACKLOG_LINES} done)`,
    );
    assert.ok(READ_SLICES.pauses > pausesBefore, 'the backlog connection was paused for a turn');
    backlog.socket.destroy();
    other.socket.destroy();
  });
});
