/**
 * The slices of src/core/read-slices.ts on a clock the test moves: only big chunks are timed, the
 * streams of one turn share its slice, and a paused stream resumes at the end of the next turn unless
 * its reader says it must stay paused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { MAX_CLIENT_HOLD_MS, READ_SLICE_MS, ReadSlices, SLICED_CHUNK_BYTES } from '../../src/core/read-slices.js';
import { registerReadSliceMetrics } from '../../src/observability/metrics-registry.js';
import { ManualTurns } from '../helpers/manual-turns.js';

class FakeStream {
  paused = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

test('a short chunk is not timed, and arms nothing', () => {
  const turns = new ManualTurns();
  const slices = new ReadSlices(turns);
  assert.equal(slices.begin(SLICED_CHUNK_BYTES - 1), false);
  turns.endTurn();
  assert.equal(slices.pauses, 0);
});

test('the big chunks of one turn share the slice; the paused streams resume at the end of the next turn', () => {
  const turns = new ManualTurns();
  const slices = new ReadSlices(turns);
  const a = new FakeStream();
  const b = new FakeStream();
  const c = new FakeStream();
  assert.equal(slices.begin(SLICED_CHUNK_BYTES), true);
  turns.nowMs += READ_SLICE_MS / 2;
  slices.pauseIfSpent(a);
  assert.equal(a.paused, false, 'half the slice spent');
  slices.begin(65_536);
  turns.nowMs += READ_SLICE_MS / 2;
  slices.pauseIfSpent(b);
  assert.equal(b.paused, true, 'the slice is spent: b waits');
  slices.begin(65_536);
  turns.nowMs += 1;
  slices.pauseIfSpent(c, () => false);
  assert.equal(c.paused, true);
  turns.endTurn();
  assert.equal(b.paused, true, 'not in the turn that spent the slice');
  assert.equal(slices.begin(65_536), true, 'a new turn, a new slice');
  slices.pauseIfSpent(a);
  assert.equal(a.paused, false);
  turns.endTurn();
  assert.equal(b.paused, false, 'resumed at the end of the next turn');
  assert.equal(c.paused, true, 'its reader said no: it stays paused');
  assert.equal(slices.pauses, 2);
});

class FakeClient extends FakeStream {
  readonly putBack: Buffer[] = [];
  readonly log: string[];
  constructor(
    readonly name: string,
    log: string[],
  ) {
    super();
    this.log = log;
  }
  override resume(): void {
    super.resume();
    this.log.push(this.name);
  }
  unshift(chunk: Buffer): void {
    this.putBack.push(chunk);
  }
}

/**
 * A slicer on a clock the test moves, with a link and a client whose resumes are logged in order in
 * `resumed` (make more clients with the same log), and a chunk for them to hold.
 * `linkFallsBehind(gapMs)`: `gapMs` later, a turn in which the link's reads spend the slice (again),
 * and the turn's end.
 */
function linkAndClient(): {
  turns: ManualTurns;
  slices: ReadSlices;
  resumed: string[];
  link: FakeClient;
  client: FakeClient;
  chunk: Buffer;
  linkFallsBehind: (gapMs: number) => void;
} {
  const turns = new ManualTurns();
  const resumed: string[] = [];
  const slices = new ReadSlices(turns);
  const link = new FakeClient('link', resumed);
  const linkFallsBehind = (gapMs: number): void => {
    turns.nowMs += gapMs;
    slices.begin(65_536);
    turns.nowMs += READ_SLICE_MS;
    slices.pauseLinkIfSpent(link);
    turns.endTurn();
    turns.endTurn();
  };
  return {
    turns,
    slices,
    resumed,
    link,
    client: new FakeClient('client', resumed),
    chunk: Buffer.alloc(8),
    linkFallsBehind,
  };
}

test('a link paused by a spent slice is behind until a turn reads it without pausing it; clients hold their chunks meanwhile', () => {
  const { turns, slices, resumed, link, client, chunk } = linkAndClient();
  const sleeper = new FakeClient('sleeper', resumed);
  assert.equal(slices.holdClient(client, chunk), false, 'no link behind: the chunk is handled');
  // A client and a link spend the slice in one turn.
  slices.begin(65_536);
  turns.nowMs += READ_SLICE_MS;
  slices.pauseIfSpent(client);
  slices.begin(65_536);
  slices.pauseLinkIfSpent(link);
  assert.equal(link.paused, true);
  assert.equal(slices.linksBehind, 1);
  assert.equal(
    slices.holdClient(sleeper, chunk, () => false),
    true,
    'a link is behind: held',
  );
  assert.deepEqual([sleeper.paused, sleeper.putBack], [true, [chunk]]);
  turns.endTurn();
  turns.endTurn();
  assert.deepEqual(resumed, ['link', 'client'], 'links resume first');
  assert.equal(slices.holdClient(client, chunk), true, 'resumed, but the link has not caught up');
  // The link's next reads spend the slice again: still behind.
  slices.begin(65_536);
  turns.nowMs += READ_SLICE_MS;
  slices.pauseLinkIfSpent(link);
  turns.endTurn();
  assert.equal(slices.linksBehind, 1);
  turns.endTurn();
  assert.equal(link.paused, false);
  assert.equal(client.paused, true);
  // A turn reads the link without pausing it: caught up, and the held clients resume.
  turns.endTurn();
  assert.equal(slices.linksBehind, 0);
  assert.equal(client.paused, false);
  assert.equal(sleeper.paused, true, 'its reader said no: it stays paused');
  assert.deepEqual(resumed, ['link', 'client', 'link', 'client']);
  assert.deepEqual([slices.pauses, slices.holds], [3, 2]);
});

test(`clients held for MAX_CLIENT_HOLD_MS (${MAX_CLIENT_HOLD_MS} ms) while links stay behind are held no more: the held resume, new chunks are read`, () => {
  const { turns, slices, resumed, client, chunk, linkFallsBehind } = linkAndClient();
  const late = new FakeClient('late', resumed);
  linkFallsBehind(0);
  const behindSince = turns.nowMs;
  assert.equal(slices.holdClient(client, chunk), true, 'a link is behind: held');
  linkFallsBehind(500);
  assert.equal(client.paused, true, 'still held half-way');
  turns.nowMs = behindSince + MAX_CLIENT_HOLD_MS - 1;
  assert.equal(slices.holdClient(late, chunk), true, 'held 1 ms before the bound');
  turns.nowMs = behindSince + MAX_CLIENT_HOLD_MS;
  assert.equal(slices.holdClient(new FakeClient('new', resumed), chunk), false, 'read at the bound');
  linkFallsBehind(0);
  assert.equal(slices.linksBehind, 1, 'the link is still behind');
  assert.deepEqual([client.paused, late.paused], [false, false], 'the held clients resumed');
  // Once the link has caught up, the next time it falls behind holds clients again.
  turns.endTurn();
  assert.equal(slices.linksBehind, 0);
  linkFallsBehind(0);
  assert.equal(slices.holdClient(client, chunk), true);
});

test('the hold bound counts from the first chunk held, not from when the links fell behind (a catch-up that began before any client came)', () => {
  const { turns, slices, client, chunk, linkFallsBehind } = linkAndClient();
  // A restarted server's catch-up: the link has been behind without a break for longer than the bound
  // before its first client's question arrives.
  linkFallsBehind(0);
  for (let spent = 0; spent <= MAX_CLIENT_HOLD_MS; spent += 100) linkFallsBehind(100 - READ_SLICE_MS);
  assert.equal(slices.linksBehind, 1);
  const heldAt = turns.nowMs;
  assert.equal(slices.holdClient(client, chunk), true, 'the first client is held');
  turns.nowMs = heldAt + MAX_CLIENT_HOLD_MS - 1;
  assert.equal(slices.holdClient(new FakeClient('late', []), chunk), true, 'held 1 ms before its bound');
  turns.nowMs = heldAt + MAX_CLIENT_HOLD_MS;
  assert.equal(slices.holdClient(new FakeClient('new', []), chunk), false, 'read at the bound');
  linkFallsBehind(0);
  assert.deepEqual([slices.linksBehind, client.paused, slices.holdBoundsReached], [1, false, 1]);
});

/** What the slices have counted: [link pauses, client pauses, held chunks, hold bounds reached]. */
const counted = (slices: ReadSlices): number[] => [
  slices.linkPauses,
  slices.clientPauses,
  slices.holds,
  slices.holdBoundsReached,
];

test('pauses are counted by kind, and held chunks, each only when it happens', () => {
  const { turns, slices, link, client, chunk } = linkAndClient();
  slices.begin(65_536);
  turns.nowMs += READ_SLICE_MS - 1;
  slices.pauseIfSpent(client);
  slices.pauseLinkIfSpent(link);
  assert.equal(slices.holdClient(client, chunk), false);
  assert.deepEqual(counted(slices), [0, 0, 0, 0], 'the slice not spent, no link behind: nothing');
  turns.nowMs += 1;
  slices.pauseIfSpent(client);
  assert.deepEqual(counted(slices), [0, 1, 0, 0], 'a client paused');
  slices.pauseLinkIfSpent(link);
  assert.deepEqual(counted(slices), [1, 1, 0, 0], 'a link paused');
  assert.equal(slices.holdClient(new FakeClient('other', []), chunk), true);
  assert.deepEqual(counted(slices), [1, 1, 1, 0], 'a client chunk held');
  turns.endTurn();
  turns.endTurn();
  turns.endTurn();
  assert.equal(slices.linksBehind, 0);
  assert.equal(slices.holdClient(client, chunk), false);
  assert.equal(slices.begin(SLICED_CHUNK_BYTES - 1), false);
  assert.deepEqual(counted(slices), [1, 1, 1, 0], 'caught up, a short chunk: nothing more');
  assert.equal(slices.pauses, 2);
});

test('reaching the hold bound is counted once per spell of links behind, by a chunk read or by the held resumed', () => {
  const { turns, slices, client, chunk, linkFallsBehind } = linkAndClient();
  // A spell whose bound a client's chunk meets: read, not held.
  linkFallsBehind(0);
  assert.equal(slices.holdClient(client, chunk), true);
  linkFallsBehind(MAX_CLIENT_HOLD_MS - READ_SLICE_MS - 1);
  assert.equal(slices.holdBoundsReached, 0, '1 ms before the bound: not reached');
  turns.nowMs += 1;
  assert.equal(slices.holdClient(new FakeClient('new', []), chunk), false);
  assert.equal(slices.holdBoundsReached, 1, 'a chunk read at the bound while a link is behind');
  assert.equal(slices.holdClient(new FakeClient('next', []), chunk), false);
  linkFallsBehind(0);
  assert.equal(client.paused, false, 'the held client resumed');
  assert.equal(slices.holdBoundsReached, 1, 'the same spell: counted once');
  turns.endTurn();
  assert.equal(slices.linksBehind, 0);
  // A new spell whose bound only the held client meets: resumed while the link is still behind.
  linkFallsBehind(0);
  assert.equal(slices.holdClient(client, chunk), true);
  linkFallsBehind(MAX_CLIENT_HOLD_MS);
  assert.deepEqual([slices.linksBehind, client.paused], [1, false]);
  assert.equal(slices.holdBoundsReached, 2, 'a new spell, the held resumed past the bound');
  // A spell that catches up within the bound counts nothing.
  turns.endTurn();
  linkFallsBehind(0);
  assert.equal(slices.holdClient(client, chunk), true);
  turns.endTurn();
  assert.deepEqual([slices.linksBehind, client.paused, slices.holdBoundsReached], [0, false, 2]);
});

test('the counts are served as herd_read_slice_pauses_total, herd_read_held_chunks_total and herd_read_hold_bound_reached_total', async () => {
  const { turns, slices, link, client, chunk } = linkAndClient();
  const registry = new Registry();
  registerReadSliceMetrics(registry, slices);
  slices.begin(65_536);
  turns.nowMs += READ_SLICE_MS;
  slices.pauseLinkIfSpent(link);
  slices.pauseIfSpent(client);
  slices.pauseIfSpent(new FakeClient('other', []));
  slices.holdClient(new FakeClient('held', []), chunk);
  turns.nowMs += MAX_CLIENT_HOLD_MS;
  slices.holdClient(new FakeClient('read', []), chunk);
  const text = await registry.metrics();
  assert.match(text, /^# TYPE herd_read_slice_pauses_total counter$/m);
  assert.match(text, /^herd_read_slice_pauses_total\{kind="peer"\} 1$/m);
  assert.match(text, /^herd_read_slice_pauses_total\{kind="client"\} 2$/m);
  assert.match(text, /^herd_read_held_chunks_total 1$/m);
  assert.match(text, /^herd_read_hold_bound_reached_total 1$/m);
});
