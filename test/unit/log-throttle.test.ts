/**
 * The throttle of repeated fault lines (src/observability/log-throttle.ts) on an injected monotonic
 * clock: one line per interval at most, the first at once, and each line says how many were not
 * logged since the one before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogThrottle, REPEATED_FAULT_LOG_INTERVAL_MS } from '../../src/observability/log-throttle.js';

test('one line per interval at most, each with the count left unlogged since the last', () => {
  let nowMs = 5_000;
  const throttle = new LogThrottle(REPEATED_FAULT_LOG_INTERVAL_MS, () => nowMs);
  assert.equal(throttle.take(), 0, 'the first is logged at once');
  nowMs += REPEATED_FAULT_LOG_INTERVAL_MS - 1;
  assert.equal(throttle.take(), undefined);
  assert.equal(throttle.take(), undefined);
  nowMs += 1;
  assert.equal(throttle.take(), 2, 'a whole interval later, with the two not logged');
  assert.equal(throttle.take(), undefined);
  nowMs += 10 * REPEATED_FAULT_LOG_INTERVAL_MS;
  assert.equal(throttle.take(), 1);
});
