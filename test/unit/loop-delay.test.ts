/**
 * The event-loop delay monitor behind `/metrics` (src/observability/loop-delay.ts) samples the turns
 * that carry work, with no timer of its own: an idle server is never woken to measure a delay it cannot
 * have, and a lightly loaded one is not woken a hundred times a second either.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import {
  LOOP_BLOCK_MS,
  LOOP_DELAY_RESOLUTION_MS,
  LoopDelayMonitor,
  type LoopClock,
} from '../../src/observability/loop-delay.js';
import { loopBlockLog } from '../../src/observability/loop-block-log.js';
import { LogThrottle } from '../../src/observability/log-throttle.js';
import type { Logger } from '../../src/observability/logger.js';
import { registerLoopDelayMetrics } from '../../src/observability/metrics-registry.js';
import { ManualTurns } from '../helpers/manual-turns.js';

/** A loop whose time, idle time and turn ends the test moves by hand. */
class ManualLoop extends ManualTurns implements LoopClock {
  idle = 0;
  constructor() {
    super(1_000);
  }
  idleMs(): number {
    return this.idle;
  }
}

/** A reading in seconds is `ms` within the histogram's precision (3 significant digits). */
function assertMs(seconds: number, ms: number, message: string): void {
  assert.ok(Math.abs(seconds * 1000 - ms) < ms / 500, `${message}: ${seconds * 1000} ms, not ${ms}`);
}

describe('LoopDelayMonitor', () => {
  test('arms nothing while idle, and one probe per turn with work, whatever the work in it', () => {
    const loop = new ManualLoop();
    const monitor = new LoopDelayMonitor(loop);
    assert.equal(loop.pending, 0, 'nothing waits while idle');
    monitor.noteWork();
    monitor.noteWork();
    monitor.noteWork();
    assert.equal(monitor.sampling, true);
    assert.equal(loop.pending, 1, 'one probe for the turn');
    loop.nowMs += 3;
    loop.endTurn();
    assert.equal(monitor.sampling, false);
    assert.equal(loop.pending, 0, 'nothing left behind');
    const reading = monitor.read();
    assertMs(reading.max, LOOP_DELAY_RESOLUTION_MS + 3, 'the busy 3 ms and one period');
    monitor.close();
  });

  test("the loop's waiting for events between the work and the probe is not delay", () => {
    const loop = new ManualLoop();
    const monitor = new LoopDelayMonitor(loop);
    monitor.noteWork();
    loop.nowMs += 52;
    loop.idle += 50;
    loop.endTurn();
    assertMs(monitor.read().max, LOOP_DELAY_RESOLUTION_MS + 2, 'the 2 ms busy, not the 50 ms waiting');
    monitor.close();
  });

  test('a loop that had nothing to do reads one period and no delay', () => {
    const monitor = new LoopDelayMonitor(new ManualLoop());
    const reading = monitor.read();
    assert.equal(reading.p99, LOOP_DELAY_RESOLUTION_MS / 1000);
    assert.equal(reading.stddev, 0);
    monitor.close();
  });

  test('after close nothing is armed or sampled', () => {
    const loop = new ManualLoop();
    const monitor = new LoopDelayMonitor(loop);
    monitor.noteWork();
    monitor.close();
    loop.nowMs += 5;
    loop.endTurn();
    monitor.noteWork();
    assert.equal(loop.pending, 0);
    assert.equal(monitor.read().p99, LOOP_DELAY_RESOLUTION_MS / 1000);
  });

  test("on the process's own loop, a 60 ms block while handling work shows in the max", async () => {
    const monitor = new LoopDelayMonitor();
    await new Promise((resolve) => setImmediate(resolve));
    monitor.noteWork();
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // Block the loop, as a long command would.
    }
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const reading = monitor.read();
    assert.ok(reading.max >= 0.06 + LOOP_DELAY_RESOLUTION_MS / 1000, `the block is in the reading (${reading.max})`);
    monitor.close();
  });

  test('replaces the figures collectDefaultMetrics registered, under the same names', async () => {
    const registry = new Registry();
    const monitor = new LoopDelayMonitor(new ManualLoop());
    registerLoopDelayMetrics(registry, monitor);
    const text = await registry.metrics();
    for (const figure of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) {
      assert.match(text, new RegExp(`^nodejs_eventloop_lag_${figure}_seconds \\S+$`, 'm'), figure);
    }
    monitor.close();
  });

  test('a turn busier than LOOP_BLOCK_MS is a block: counted, the longest kept, reported once', () => {
    const loop = new ManualLoop();
    const blocks: number[] = [];
    const monitor = new LoopDelayMonitor(loop, (ms) => blocks.push(ms));
    const turn = (busyMs: number, idleMs = 0): void => {
      monitor.noteWork();
      loop.nowMs += busyMs + idleMs;
      loop.idle += idleMs;
      loop.endTurn();
    };
    turn(LOOP_BLOCK_MS);
    turn(5, 200);
    assert.deepEqual(blocks, [], 'at the bound, and waiting for events, is no block');
    turn(45);
    turn(30);
    assert.deepEqual(blocks, [45, 30]);
    assert.equal(monitor.blocks, 2);
    assert.equal(monitor.longestBlockMs, 45);
    monitor.close();
  });

  test('the blocks are served as herd_event_loop_blocks_total and herd_event_loop_block_max_seconds', async () => {
    const registry = new Registry();
    const loop = new ManualLoop();
    const monitor = new LoopDelayMonitor(loop);
    registerLoopDelayMetrics(registry, monitor);
    monitor.noteWork();
    loop.nowMs += 75;
    loop.endTurn();
    const text = await registry.metrics();
    assert.match(text, /^herd_event_loop_blocks_total 1$/m);
    assert.match(text, /^herd_event_loop_block_max_seconds 0.075$/m);
    monitor.close();
  });

  test("on the process's own loop, a 30 ms block while handling work is logged as loop-blocked, once a second", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = { warn: (fields: Record<string, unknown>) => lines.push(fields) } as unknown as Logger;
    let clockMs = 0;
    const monitor = new LoopDelayMonitor(undefined, loopBlockLog(logger, new LogThrottle(1000, () => clockMs)));
    const block = async (ms: number): Promise<void> => {
      await new Promise((resolve) => setImmediate(resolve));
      monitor.noteWork();
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // Block the loop, as a long command would.
      }
      await new Promise((resolve) => setImmediate(resolve));
    };
    await block(30);
    await block(30);
    clockMs += 1000;
    await block(30);
    assert.equal(monitor.blocks, 3);
    assert.equal(lines.length, 2, 'the second block within the second is counted, not logged');
    assert.equal(lines[0]?.event, 'loop-blocked');
    assert.ok((lines[0]?.ms as number) >= 30, `the block's length: ${String(lines[0]?.ms)}`);
    assert.equal(lines[0]?.boundMs, LOOP_BLOCK_MS);
    assert.equal(lines[1]?.suppressed, 1);
    monitor.close();
  });
});
