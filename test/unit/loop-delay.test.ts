/**
 * The event-loop delay monitor behind `/metrics` (src/observability/loop-delay.ts) samples only while
 * the server has work, and sleeps once it has had none for LOOP_DELAY_IDLE_AFTER_MS: an idle server
 * is not woken a hundred times a second to measure a delay it cannot have.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import {
  LOOP_DELAY_IDLE_AFTER_MS,
  LOOP_DELAY_RESOLUTION_MS,
  LoopDelayMonitor,
} from '../../src/observability/loop-delay.js';
import { registerLoopDelayMetrics } from '../../src/observability/metrics-registry.js';
import { ManualTimers } from '../helpers/manual-timers.js';

describe('LoopDelayMonitor', () => {
  test('wakes on work, stays awake while work comes within each idle period, and sleeps after one without', () => {
    const timers = new ManualTimers();
    const monitor = new LoopDelayMonitor(timers);
    assert.equal(monitor.sampling, false);
    assert.equal(timers.pending, 0, 'no timer while idle');
    monitor.noteWork();
    assert.equal(monitor.sampling, true);
    assert.equal(timers.pending, 1);
    timers.advance(LOOP_DELAY_IDLE_AFTER_MS / 2);
    monitor.noteWork();
    timers.advance(LOOP_DELAY_IDLE_AFTER_MS / 2);
    assert.equal(monitor.sampling, true, 'work in the period keeps it awake');
    timers.advance(LOOP_DELAY_IDLE_AFTER_MS);
    assert.equal(monitor.sampling, false, 'a period without work puts it to sleep');
    assert.equal(timers.pending, 0, 'and leaves no timer behind');
    monitor.close();
  });

  test('a loop that had nothing to do reads one period and no delay', () => {
    const monitor = new LoopDelayMonitor(new ManualTimers());
    const reading = monitor.read();
    assert.equal(reading.p99, LOOP_DELAY_RESOLUTION_MS / 1000);
    assert.equal(reading.stddev, 0);
    monitor.close();
  });

  test('a busy loop reads its delay: a 60 ms block shows in the max', async () => {
    const monitor = new LoopDelayMonitor();
    monitor.noteWork();
    await new Promise((resolve) => setTimeout(resolve, 3 * LOOP_DELAY_RESOLUTION_MS));
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // Block the loop.
    }
    await new Promise((resolve) => setTimeout(resolve, 3 * LOOP_DELAY_RESOLUTION_MS));
    assert.ok(monitor.read().max >= 0.06, 'the block is in the reading');
    monitor.close();
  });

  test('replaces the figures collectDefaultMetrics registered, under the same names', async () => {
    const registry = new Registry();
    const monitor = new LoopDelayMonitor(new ManualTimers());
    registerLoopDelayMetrics(registry, monitor);
    const text = await registry.metrics();
    for (const figure of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) {
      assert.match(text, new RegExp(`^nodejs_eventloop_lag_${figure}_seconds \\S+$`, 'm'), figure);
    }
    monitor.close();
  });
});
