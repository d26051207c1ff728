/**
 * Both sides of anti-entropy (src/peers/anti-entropy.ts) over a store and a send function, with
 * hand-moved timers: the digest offer, the WANT answer, and the records sent a slice per turn, held
 * back while the link's backlog is full, stopped when the link goes down; a periodic offer skipped
 * while nothing changed since the last exchange.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/observability/logger.js';
import {
  AntiEntropyDialler,
  AntiEntropyResponder,
  SYNC_SEND_SLICE,
  SYNC_TIMEOUT_MS,
} from '../../src/peers/anti-entropy.js';
import type { SyncMessage } from '../../src/peers/anti-entropy-messages.js';
import { parseLinkMessage } from '../../src/peers/link-messages.js';
import { FieldOffsets } from '../../src/protocol/fields.js';
import { LocationStore } from '../../src/store/location-store.js';
import { ManualTimers } from '../helpers/manual-timers.js';

function storeOf(count: number, prefix = 'c'): LocationStore {
  const store = new LocationStore();
  for (let i = 0; i < count; i++) {
    const clientId = `${prefix}${i}`;
    store.offer({
      clientId,
      atLine: `AT Alford +0.000000001 ${clientId} +1+1 1700000000.${String(i).padStart(9, '0')}`,
    });
  }
  return store;
}

/** A line as the link's parser reads it: it must be one of the anti-entropy messages of `types`. */
function message<T extends SyncMessage['type']>(line: string, types: readonly T[]): Extract<SyncMessage, { type: T }> {
  const bytes = Buffer.from(line, 'latin1');
  const parsed = parseLinkMessage(bytes, 0, bytes.length, new FieldOffsets(6));
  assert.ok((types as readonly string[]).includes(parsed.type), `${line} -> ${parsed.type}`);
  return parsed as Extract<SyncMessage, { type: T }>;
}

const WANTS = ['WANT', 'WANT-END'] as const;
const OFFERS = ['SYNC', 'SUMS', 'SUMS-END', 'SYNCED'] as const;

function dialler(store: LocationStore, backlog: () => number = () => 0, dropped: () => number = () => 0) {
  const timers = new ManualTimers();
  const sent: string[] = [];
  const records: number[] = [];
  const side = new AntiEntropyDialler({
    peerName: 'Ball',
    store,
    send: (line) => sent.push(line),
    backlog,
    dropped,
    log: silentLogger(),
    timers,
    intervalMs: 30_000,
    random: () => 0.5,
    onRecordsSent: (n) => records.push(n),
  });
  return { side, timers, sent, records };
}

/** The neighbour's side of anti-entropy for a dialler named `peerName`; what it sends goes to `out`, a line each. */
function responder(peerName: string, store: LocationStore, out: string[]): AntiEntropyResponder {
  return new AntiEntropyResponder({
    peerName,
    store,
    send: (text) => out.push(...text.trimEnd().split('\n')),
    log: silentLogger(),
    timers: new ManualTimers(),
  });
}

/** Runs the neighbour's side on what the dialler offered and returns its answer lines. */
function answer(offer: readonly string[], theirs: LocationStore): string[] {
  const out: string[] = [];
  const alfordSide = responder('Alford', theirs, out);
  for (const line of offer) alfordSide.onMessage(message(line, OFFERS));
  return out;
}

describe('anti-entropy', () => {
  test('an empty neighbour wants every bucket; the records go a slice per turn, then SYNCED', () => {
    const total = SYNC_SEND_SLICE * 2 + 10;
    const { side, timers, sent, records } = dialler(storeOf(total));
    side.linkUp();
    const offer = sent.splice(0);
    assert.match(offer[0] ?? '', /^SYNC 1 \d+$/);
    assert.equal(offer.at(-1), 'SUMS-END 1');
    for (const line of answer(offer, new LocationStore())) side.onMessage(message(line, WANTS));
    assert.equal(sent.length, SYNC_SEND_SLICE, 'one slice at once');
    assert.equal(timers.pending, 2, 'the periodic offer, and the next slice on a later turn');
    timers.advance(0);
    assert.equal(sent.length, total + 1);
    assert.equal(sent.at(-1), `SYNCED 1 ${total}`);
    assert.deepEqual(records, [total]);
    assert.equal(new Set(sent.slice(0, -1)).size, total, 'every record once');
  });

  test('a full backlog holds the next slice back until it drains', () => {
    let backlog = 0;
    const { side, timers, sent } = dialler(storeOf(SYNC_SEND_SLICE + 1), () => backlog);
    side.linkUp();
    for (const line of answer(sent.splice(0), new LocationStore())) side.onMessage(message(line, WANTS));
    assert.equal(sent.length, SYNC_SEND_SLICE);
    backlog = SYNC_SEND_SLICE;
    timers.advance(50);
    assert.equal(sent.length, SYNC_SEND_SLICE, 'nothing more while the link is full');
    backlog = 0;
    timers.advance(5);
    assert.equal(sent.length, SYNC_SEND_SLICE + 2);
  });

  test('a link that goes down stops the sending, and no new offer starts while one is sending', () => {
    const { side, timers, sent } = dialler(storeOf(SYNC_SEND_SLICE * 3));
    side.linkUp();
    for (const line of answer(sent.splice(0), new LocationStore())) side.onMessage(message(line, WANTS));
    const before = sent.length;
    side.offer();
    assert.equal(sent.length, before, 'no offer while records are still being sent');
    side.linkDown();
    timers.advance(1000);
    assert.equal(sent.length, before);
  });

  test('equal tables: the neighbour wants nothing and nothing is sent', () => {
    const { side, sent, records } = dialler(storeOf(100));
    side.linkUp();
    const reply = answer(sent.splice(0), storeOf(100));
    assert.deepEqual(reply, ['WANT-END 1']);
    for (const line of reply) side.onMessage(message(line, WANTS));
    assert.deepEqual(sent, ['SYNCED 1 0']);
    assert.deepEqual(records, [0]);
  });

  test('a periodic offer is skipped while the table is unchanged and no line was dropped since the last SYNCED; a change or a drop brings it back', () => {
    const store = storeOf(10);
    let dropped = 0;
    const { side, timers, sent } = dialler(
      store,
      () => 0,
      () => dropped,
    );
    /** Answers the offer in `sent` as a neighbour holding `theirs`, and returns what the dialler sent back. */
    const exchange = (theirs: LocationStore): string[] => {
      for (const line of answer(sent.splice(0), theirs)) side.onMessage(message(line, WANTS));
      return sent.splice(0);
    };
    side.linkUp();
    assert.deepEqual(exchange(new LocationStore()).at(-1), 'SYNCED 1 10');
    // Every periodic run (30 s here) while nothing changes: no offer.
    timers.advance(30_000 * 3);
    assert.deepEqual(sent, [], 'no offer while nothing changed');
    // A stored update: the next run offers.
    store.offer({ clientId: 'new', atLine: 'AT Alford +0.000000001 new +1+1 1700000001' });
    timers.advance(30_000);
    assert.match(sent[0] ?? '', /^SYNC 2 /);
    assert.match(exchange(storeOf(10)).at(-1) ?? '', /^SYNCED 2 /);
    timers.advance(30_000);
    assert.deepEqual(sent, []);
    // A line dropped at the link's queue bound: the next run offers.
    dropped++;
    timers.advance(30_000);
    assert.match(sent[0] ?? '', /^SYNC 3 /);
    exchange(store);
    // A new connection offers at once, whatever changed.
    side.linkDown();
    side.linkUp();
    assert.match(sent[0] ?? '', /^SYNC 4 /);
  });

  test('an exchange that never reached SYNCED does not let the next periodic offer be skipped', () => {
    const { side, timers, sent } = dialler(storeOf(10));
    side.linkUp();
    assert.match(sent.splice(0)[0] ?? '', /^SYNC 1 /);
    // Unanswered: after SYNC_TIMEOUT_MS the periodic run offers again, though the table did not change.
    timers.advance(SYNC_TIMEOUT_MS + 30_000);
    assert.match(sent[0] ?? '', /^SYNC 2 /);
  });

  test(`an offer nobody answers holds the next one back until SYNC_TIMEOUT_MS (${SYNC_TIMEOUT_MS} ms), then a new one starts; a late answer to the old one sends nothing`, () => {
    const store = storeOf(10);
    const { side, timers, sent } = dialler(store);
    side.linkUp();
    const first = sent.splice(0);
    assert.match(first[0] ?? '', /^SYNC 1 /);
    // The periodic offers (every 30 s here) come while the first is unanswered: none goes out.
    timers.advance(SYNC_TIMEOUT_MS - 1);
    assert.deepEqual(sent, []);
    timers.advance(30_000);
    assert.match(sent[0] ?? '', /^SYNC 2 /, 'a new offer once the first is abandoned');
    sent.splice(0);
    // The neighbour answers the abandoned offer at last: it wants everything, and gets nothing.
    for (const line of answer(first, new LocationStore())) side.onMessage(message(line, WANTS));
    timers.advance(0);
    assert.deepEqual(sent, []);
  });

  test('while the table is still being restored, neither side compares digests; both do once it is complete', async () => {
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => (loaded = resolve));
    /** A table that says it is loading until `loaded()`. */
    class Loading extends LocationStore {
      done = false;
      override loading(): Promise<void> | undefined {
        return this.done ? undefined : loading;
      }
    }
    const ours = new Loading();
    for (const line of storeOf(3).atLines()) ours.offer({ clientId: line.split(' ')[3] as string, atLine: line });
    const { side, sent } = dialler(ours);
    side.linkUp();
    assert.deepEqual(sent, [], 'no offer from a table being restored');
    // The neighbour's offer to a table being restored is answered once it is complete.
    const theirs = dialler(storeOf(5));
    theirs.side.linkUp();
    const replies: string[] = [];
    const ballSide = responder('Ball', ours, replies);
    for (const line of theirs.sent.splice(0)) ballSide.onMessage(message(line, OFFERS));
    assert.deepEqual(replies, []);
    ours.done = true;
    loaded();
    await loading;
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(sent[0] ?? '', /^SYNC 1 /, 'the held offer goes out');
    assert.match(replies.at(-1) ?? '', /^WANT-END 1$/);
    assert.ok(replies.length > 1, 'it wants the buckets it lacks');
  });
});
