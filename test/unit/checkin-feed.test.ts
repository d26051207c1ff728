/**
 * The dashboard's check-in buffer at its bound, `dashboard.maxBufferedCheckins` (src/dashboard/feed.ts):
 * past it, stored records between two flushes are only counted, reported as `more`, and the buffer
 * starts empty again after the flush.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckinFeed } from '../../src/dashboard/feed.js';
import { record } from '../helpers/store-fixtures.js';

/** The `checkin` event in a chunk of SSE text. */
function checkinEvent(chunk: string): { checkins: { id: string }[]; more: number } {
  const data = /event: checkin\ndata: (.*)\n/.exec(chunk)?.[1];
  assert.ok(data !== undefined, `a checkin event in ${JSON.stringify(chunk)}`);
  return JSON.parse(data) as { checkins: { id: string }[]; more: number };
}

describe('the dashboard check-in feed', () => {
  test('past maxBufferedCheckins, records between two flushes are counted in `more`, not kept', () => {
    const capacity = 3;
    const feed = new CheckinFeed(capacity, 100);
    feed.observer.stored(record('ignored', 1700000000), undefined);
    assert.equal(
      feed.take('Solo', () => []),
      '',
      'nothing is noted while no page is open',
    );
    feed.active = true;
    for (let i = 0; i < capacity + 2; i++) feed.observer.stored(record(`c${i}`, 1700000000 + i), undefined);
    const event = checkinEvent(feed.take('Solo', () => []));
    assert.deepEqual(
      event.checkins.map((checkin) => checkin.id),
      ['c2', 'c1', 'c0'],
    );
    assert.equal(event.more, 2, 'the two past the bound are counted');
    // The next flush starts empty: the bound is per flush.
    feed.observer.stored(record('later', 1800000000), undefined);
    const next = checkinEvent(feed.take('Solo', () => []));
    assert.deepEqual(
      next.checkins.map((checkin) => checkin.id),
      ['later'],
    );
    assert.equal(next.more, 0);
  });
});
