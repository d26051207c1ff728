/**
 * Reconnect backoff (docs/protocol.md "Links": a dropped link is retried with backoff and jitter): the
 * ceiling doubles from the base delay up to the cap, and the delay is drawn from [ceiling/2, ceiling).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exponentialBackoff } from '../../src/peers/backoff.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { PROPERTY_RUNS as FC } from '../helpers/fuzz.js';

/** A server's reconnect delays (the link settings' defaults). */
const DELAYS = {
  baseDelayMs: DEFAULT_LINK_SETTINGS.reconnectBaseDelayMs,
  maxDelayMs: DEFAULT_LINK_SETTINGS.reconnectMaxDelayMs,
} as const;

/** The largest value Math.random() can return. */
const LARGEST_RANDOM = 1 - 2 ** -53;

function ceilingOf(attempt: number, base: number, max: number): number {
  let ceiling = base;
  for (let i = 0; i < attempt && ceiling < max; i++) ceiling *= 2;
  return Math.min(ceiling, max);
}

describe('exponentialBackoff', () => {
  test('with random 0 the delay is half the ceiling: 50, 100, 200, 400, 800, then capped at 1000', () => {
    const backoff = exponentialBackoff({ ...DELAYS, random: () => 0 });
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map(backoff), [50, 100, 200, 400, 800, 1000, 1000, 1000]);
    assert.deepEqual(DELAYS, { baseDelayMs: 100, maxDelayMs: 2000 });
  });

  test('random 0.5 gives three quarters of the ceiling', () => {
    const backoff = exponentialBackoff({ baseDelayMs: 40, maxDelayMs: 1000, random: () => 0.5 });
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(backoff), [30, 60, 120, 240, 480, 750]);
  });

  test('the random source is called once per delay', () => {
    let calls = 0;
    const backoff = exponentialBackoff({ ...DELAYS, random: () => (calls++ % 2 === 0 ? 0 : 0.5) });
    assert.equal(backoff(0), 50);
    assert.equal(backoff(0), 75);
    assert.equal(calls, 2);
  });

  test('the default random source is Math.random', (t) => {
    t.mock.method(Math, 'random', () => 0.25);
    const backoff = exponentialBackoff(DELAYS);
    assert.equal(backoff(0), 62.5);
    assert.equal(backoff(10), 1250);
  });

  test('huge attempt numbers stay at the cap and finite', () => {
    const backoff = exponentialBackoff({ ...DELAYS, random: () => 0 });
    for (const attempt of [31, 100, 1024, 1e6, Number.MAX_SAFE_INTEGER])
      assert.equal(backoff(attempt), 1000, String(attempt));
  });

  test('property: the delay lies in [ceiling/2, ceiling) and never exceeds the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 200 }),
        fc.double({ min: 0, max: 1 - 2 ** -30, noNaN: true }),
        (base, extra, attempt, r) => {
          const max = base + extra;
          const ceiling = ceilingOf(attempt, base, max);
          const delay = exponentialBackoff({ baseDelayMs: base, maxDelayMs: max, random: () => r })(attempt);
          assert.ok(
            delay >= ceiling / 2 && delay < ceiling,
            `attempt ${attempt}: ${delay} not in [${ceiling / 2}, ${ceiling})`,
          );
          assert.ok(delay <= max);
        },
      ),
      FC,
    );
  });

  test('property: with a fixed random the delays never shrink as attempts grow', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
        const backoff = exponentialBackoff({ ...DELAYS, random: () => r });
        for (let attempt = 1; attempt < 40; attempt++) assert.ok(backoff(attempt) >= backoff(attempt - 1));
      }),
      FC,
    );
  });

  test('the largest Math.random() value still gives a delay below the ceiling', () => {
    const backoff = exponentialBackoff({ ...DELAYS, random: () => LARGEST_RANDOM });
    assert.ok(backoff(0) < 100, String(backoff(0)));
    assert.ok(backoff(10) < 2000, String(backoff(10)));
  });
});
