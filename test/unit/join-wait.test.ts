/**
 * The wait for the neighbours' links before the client port opens (src/server/join-wait.ts), with
 * hand-moved timers: the deadline's verdict is given after the I/O of the turn in which it fires.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import type { LinkStatusRow } from '../../src/core/status.js';
import { waitForLinks } from '../../src/server/join-wait.js';
import { capturingLogger } from '../helpers/capture-log.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const TIMEOUT_MS = 500;

/** One neighbour whose link from us is up and whose link to us is not, until `linkBack()`. */
function oneNeighbour() {
  const row = { peer: 'Welsh', status: 'up', queued: 0, dropped: 0, connects: 1, inbound: false };
  const timers = new ManualTimers();
  const { logger, events } = capturingLogger();
  let check: (() => void) | undefined;
  let joined = false;
  const links = { status: () => [row as unknown as LinkStatusRow] };
  const wait = waitForLinks({ links, timeoutMs: TIMEOUT_MS, timers, logger }, (next) => (check = next)).then(() => {
    joined = true;
  });
  return {
    timers,
    wait,
    joined: () => joined,
    joinedEvent: () => events().find((entry) => entry.event === 'joined'),
    joinedCount: () => events().filter((entry) => entry.event === 'joined').length,
    /** The neighbour's AUTH is read: its link to us is up (as the incoming link's onUp reports). */
    linkBack: () => {
      row.inbound = true;
      check?.();
    },
  };
}

describe('the join wait', () => {
  test('a neighbour whose link comes up in the turn its deadline fires in (a loop held past it) counts', async () => {
    const neighbour = oneNeighbour();
    // The loop was held past the deadline: the timer and the AUTH that arrived meanwhile are handled
    // in the same turn, the timer first (timers run before the poll phase's I/O).
    neighbour.timers.advance(TIMEOUT_MS + 200);
    neighbour.linkBack();
    await neighbour.wait;
    const joined = neighbour.joinedEvent();
    assert.equal(joined?.level, 30, 'an info line, not the warning');
    assert.deepEqual(joined?.linked, ['Welsh']);
    assert.equal(joined?.waitingFor, undefined);
  });

  test('a neighbour that has not linked back by the deadline is named once the turn is over, and clients are taken', async () => {
    const neighbour = oneNeighbour();
    neighbour.timers.advance(TIMEOUT_MS - 1);
    await turn();
    assert.equal(neighbour.joined(), false, 'still waiting before the deadline');
    neighbour.timers.advance(1);
    await neighbour.wait;
    const joined = neighbour.joinedEvent();
    assert.equal(joined?.level, 40);
    assert.deepEqual(joined?.waitingFor, ['Welsh']);
    assert.match(String(joined?.msg), /not up within 500 ms \(peer\.joinTimeoutMs\)/);
    // A link that comes after the verdict changes nothing (one `joined` line).
    neighbour.linkBack();
    await turn();
    assert.equal(neighbour.joinedCount(), 1);
  });

  test('a neighbour that links back before the deadline ends the wait at once', async () => {
    const neighbour = oneNeighbour();
    neighbour.timers.advance(100);
    neighbour.linkBack();
    await neighbour.wait;
    assert.equal(neighbour.joinedEvent()?.ms, 100);
    assert.equal(neighbour.timers.pending, 0, 'the deadline is cleared');
  });
});
