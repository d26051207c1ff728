/**
 * The failure detector of a link connection (src/peers/failure-detector.ts) with hand-moved timers
 * and a hand-run "after I/O" queue: heartbeats only when idle, death after `deadAfterMs` of silence,
 * and no false death when the event loop was blocked while the neighbour's bytes waited in the kernel.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureDetector, HeartbeatTicker } from '../../src/peers/failure-detector.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import type { Timers } from '../../src/core/timers.js';

const HEARTBEAT_MS = 1000;
const DEAD_AFTER_MS = 5000;

/**
 * A detector whose "after I/O" callbacks run only when the test says the I/O phase is over.
 *
 * @param tickerTimers when given, the heartbeat ticker's timers, made from the rig's clock (for
 *   timers that fire early, or that count what is armed); by default the ticker uses that clock.
 */
function rig(tickerTimers?: (timers: ManualTimers) => Timers) {
  const timers = new ManualTimers();
  const afterIo: (() => void)[] = [];
  const heartbeats: number[] = [];
  const deaths: { atMs: number; silentMs: number }[] = [];
  const detector = new FailureDetector({
    timers,
    ...(tickerTimers && { ticker: new HeartbeatTicker(tickerTimers(timers), HEARTBEAT_MS) }),
    heartbeatIntervalMs: HEARTBEAT_MS,
    deadAfterMs: DEAD_AFTER_MS,
    sendHeartbeat: () => heartbeats.push(timers.now()),
    onDead: (silentMs) => deaths.push({ atMs: timers.now(), silentMs }),
    afterIo: (callback) => afterIo.push(callback),
  });
  /** The check phase of this loop turn: runs what waited for the I/O phase. */
  const endOfTurn = (): void => {
    for (const callback of afterIo.splice(0)) callback();
  };
  /** Moves time in 10 ms loop turns, each ending with its check phase; `each` runs every turn. */
  const run = (ms: number, each?: (nowMs: number) => void): void => {
    for (let t = 0; t < ms; t += 10) {
      timers.advance(10);
      each?.(timers.now());
      endOfTurn();
    }
  };
  return { timers, detector, heartbeats, deaths, endOfTurn, run };
}

/** `manual`'s clock, with timers that fire 0.5 ms early, as Node's can by performance.now(). */
function firingEarly(manual: ManualTimers): Timers {
  return {
    now: () => manual.now(),
    setTimeout: (callback, ms) => manual.setTimeout(callback, ms - 0.5),
    clearTimeout: (handle) => manual.clearTimeout(handle),
  };
}

describe('FailureDetector', () => {
  test('an idle connection gets a heartbeat after each heartbeatIntervalMs of not writing', () => {
    const r = rig();
    // The neighbour keeps talking (so nothing dies); this side writes nothing.
    r.run(3500, (now) => {
      if (now % 500 === 0) r.detector.received();
    });
    assert.deepEqual(r.heartbeats, [1000, 2000, 3000]);
    assert.equal(r.detector.heartbeatsSent, 3);
    assert.deepEqual(r.deaths, []);
  });

  test('no heartbeat while traffic flows; the first comes one interval after the last write', () => {
    const r = rig();
    r.run(10_000, (now) => {
      r.detector.received();
      if (now <= 6000 && now % 50 === 0) r.detector.sent();
    });
    assert.deepEqual(r.heartbeats, [7000, 8000, 9000, 10_000]);
  });

  test('declared dead after deadAfterMs without a byte received, once, with the silence measured', () => {
    const r = rig();
    r.run(DEAD_AFTER_MS - 10);
    assert.deepEqual(r.deaths, []);
    r.run(10);
    assert.deepEqual(r.deaths, [{ atMs: DEAD_AFTER_MS, silentMs: DEAD_AFTER_MS }]);
    // It kept sending its own heartbeats until then, and stops everything after.
    assert.deepEqual(r.heartbeats, [1000, 2000, 3000, 4000, 5000]);
    assert.equal(r.timers.pending, 0);
    r.run(20_000);
    assert.equal(r.deaths.length, 1);
    assert.equal(r.heartbeats.length, 5);
  });

  test('a dead-line timer that fires early (whole-millisecond system timers) is armed again: death on time, not a tick late', () => {
    const manual = new ManualTimers();
    const early = firingEarly(manual);
    const deaths: { atMs: number; silentMs: number }[] = [];
    const afterIo: (() => void)[] = [];
    const detector = new FailureDetector({
      timers: early,
      ticker: new HeartbeatTicker(manual, HEARTBEAT_MS),
      heartbeatIntervalMs: HEARTBEAT_MS,
      deadAfterMs: DEAD_AFTER_MS,
      sendHeartbeat: () => undefined,
      onDead: (silentMs) => deaths.push({ atMs: manual.now(), silentMs }),
      afterIo: (callback) => afterIo.push(callback),
    });
    // The last byte comes just after a tick, as a neighbour's heartbeat does.
    manual.advance(4500.25);
    detector.received();
    while (manual.now() < 4500.25 + DEAD_AFTER_MS + 2 * HEARTBEAT_MS && deaths.length === 0) {
      manual.advance(1);
      for (const callback of afterIo.splice(0)) callback();
    }
    assert.equal(deaths.length, 1);
    const [death] = deaths as [{ atMs: number; silentMs: number }];
    assert.ok(death.silentMs >= DEAD_AFTER_MS, `silent ${death.silentMs} ms`);
    assert.ok(death.atMs <= 4500.25 + DEAD_AFTER_MS + 2, `dead at ${death.atMs} ms, the dead line was 9500.25`);
    detector.stop();
  });

  test('ticks whose timer fires early still come once each, at their time', () => {
    const r = rig(firingEarly);
    r.run(3500, () => r.detector.received());
    assert.deepEqual(r.heartbeats, [1000, 2000, 3000]);
    r.detector.stop();
  });

  test('silence is measured from the last byte received, not from the start', () => {
    const r = rig();
    r.run(2000, (now) => {
      if (now === 1230) r.detector.received();
    });
    r.run(5000);
    assert.deepEqual(r.deaths, [{ atMs: 1230 + DEAD_AFTER_MS, silentMs: DEAD_AFTER_MS }]);
  });

  test('no false death when the event loop is blocked for up to deadAfterMs / 2 with bytes waiting', () => {
    for (const blockMs of [20, 500, 1000, 2000, DEAD_AFTER_MS / 2]) {
      const r = rig();
      // The neighbour's last byte was read at 0; then it went quiet (it was busy too). Our loop blocks
      // just before the dead line and stays blocked past it; meanwhile the neighbour's next heartbeat
      // lands in our kernel buffer, unread.
      r.run(DEAD_AFTER_MS - blockMs / 2);
      r.timers.block(blockMs);
      // The loop turn after the block: timers first (the dead line has passed)...
      r.timers.advance(0);
      assert.ok(r.timers.now() - 0 >= DEAD_AFTER_MS, `block ${blockMs}: the dead line passed`);
      // ...then the poll phase reads what waited in the kernel...
      r.detector.received();
      // ...then the check phase, where the detector looks again.
      r.endOfTurn();
      assert.deepEqual(r.deaths, [], `block ${blockMs}: no false death`);
      // Still watching: a real silence afterwards is caught.
      r.run(DEAD_AFTER_MS + 10);
      assert.equal(r.deaths.length, 1, `block ${blockMs}: a real silence is still caught`);
    }
  });

  test('the check after I/O is what prevents it: judged in the timer itself, the same block is a false death', () => {
    const timers = new ManualTimers();
    let deaths = 0;
    const detector = new FailureDetector({
      timers,
      heartbeatIntervalMs: HEARTBEAT_MS,
      deadAfterMs: DEAD_AFTER_MS,
      sendHeartbeat: () => undefined,
      onDead: () => deaths++,
      afterIo: (callback) => callback(),
    });
    timers.advance(DEAD_AFTER_MS - 1000);
    timers.block(2000);
    timers.advance(0);
    detector.received();
    assert.equal(deaths, 1);
  });

  test('a blocked loop with nothing waiting after it is a real silence', () => {
    const r = rig();
    r.run(3000);
    r.timers.block(DEAD_AFTER_MS / 2);
    r.timers.advance(0);
    r.endOfTurn();
    assert.equal(r.deaths.length, 1);
    assert.equal(r.deaths[0]?.silentMs, 3000 + DEAD_AFTER_MS / 2);
  });

  test('a neighbour heartbeating at heartbeatIntervalMs keeps the connection alive through a block of deadAfterMs / 2 on either side', () => {
    const r = rig();
    // The neighbour's heartbeats arrive every interval, but a block of deadAfterMs / 2 on its side
    // delays one by that much; ours is blocked for as long right after.
    let next = HEARTBEAT_MS;
    r.run(20_000, (now) => {
      if (now === 6000) next += DEAD_AFTER_MS / 2;
      if (now >= next) {
        r.detector.received();
        next = now + HEARTBEAT_MS;
      }
      if (now === 8400) r.timers.block(DEAD_AFTER_MS / 2);
    });
    assert.deepEqual(r.deaths, []);
  });

  test('stop() cancels everything: no heartbeat and no death after it', () => {
    const r = rig();
    r.run(1500);
    r.detector.stop();
    assert.equal(r.timers.pending, 0);
    r.run(20_000);
    assert.deepEqual(r.heartbeats, [1000]);
    assert.deepEqual(r.deaths, []);
  });

  test('stopped between the dead line and the check after I/O: no death reported', () => {
    const r = rig();
    r.run(DEAD_AFTER_MS - 10);
    r.timers.advance(10);
    r.detector.stop();
    r.endOfTurn();
    assert.deepEqual(r.deaths, []);
  });

  test('a write since the tick before skips the next heartbeat: a side is never silent for two intervals', () => {
    const r = rig();
    r.run(3000, (now) => {
      r.detector.received();
      if (now === 1300) r.detector.sent();
    });
    // Tick 1000 is before the write, tick 2000 follows a write since tick 1000: the first heartbeat is at 3000.
    assert.deepEqual(r.heartbeats, [1000, 3000]);
  });
});

describe('HeartbeatTicker', () => {
  test('every connection of a server ticks on one timer, at the same moments, whatever their start', () => {
    const timers = new ManualTimers();
    const ticker = new HeartbeatTicker(timers, HEARTBEAT_MS, 250);
    const beats: [string, number][] = [];
    const detectors = ['a', 'b', 'c'].map((name, i) => {
      timers.advance(100 * i);
      return new FailureDetector({
        timers,
        heartbeatIntervalMs: HEARTBEAT_MS,
        deadAfterMs: DEAD_AFTER_MS,
        ticker,
        sendHeartbeat: () => beats.push([name, timers.now()]),
        onDead: () => assert.fail('nothing dies here'),
      });
    });
    assert.equal(timers.pending, 1, 'one timer for three connections');
    for (let t = 0; t < 3000; t += 50) {
      timers.advance(50);
      for (const detector of detectors) detector.received();
    }
    const times = [...new Set(beats.map(([, at]) => at))];
    assert.deepEqual(
      times,
      [1250, 2250, 3250].filter((at) => at <= timers.now()),
      'ticks at the phase',
    );
    assert.deepEqual(
      beats.filter(([, at]) => at === 2250).map(([name]) => name),
      ['a', 'b', 'c'],
    );
    for (const detector of detectors) detector.stop();
    assert.equal(timers.pending, 0, 'the timer stops with the last connection');
  });

  test('an idle tick arms one timer with the same callback each time, also after an early fire', () => {
    const callbacks = new Set<() => void>();
    let armed = 0;
    const r = rig((manual) => {
      const early = firingEarly(manual);
      return {
        now: () => early.now(),
        clearTimeout: (handle) => early.clearTimeout(handle),
        setTimeout: (callback, ms) => {
          armed++;
          callbacks.add(callback);
          return early.setTimeout(callback, ms);
        },
      };
    });
    r.run(5500, () => r.detector.received());
    assert.deepEqual(r.heartbeats, [1000, 2000, 3000, 4000, 5000]);
    // Two arms a tick (each fires 0.5 ms early and is armed again for the rest), plus the next one.
    assert.equal(armed, 11);
    assert.equal(callbacks.size, 1, 'no closure made per tick: an idle server runs nothing else');
    r.detector.stop();
    assert.equal(r.timers.pending, 0, 'no timer once the last connection stopped');
  });

  test("with the system timers the ticks fall on the wall clock's whole intervals", () => {
    const ticker = new HeartbeatTicker(undefined as never, 1000, -(performance.timeOrigin % 1000));
    const tick = ticker.tickAtOrBefore(performance.now());
    const wall = performance.timeOrigin + tick;
    assert.ok(Math.abs(wall - Math.round(wall / 1000) * 1000) < 1e-3, `tick at wall ${wall}`);
  });
});
