/**
 * The failure detector of one link connection (docs/protocol.md#heartbeats): the idea of SWIM and
 * HashiCorp memberlist (probe, timeout, declare) cut down to the one connection between two
 * neighbours. Each side writes a heartbeat line when it has written nothing for a heartbeat interval,
 * and declares the connection dead when it has received nothing for `deadAfterMs`. A silent network
 * (a switch port, a security group, a pulled cable) then ends a link within `deadAfterMs`, where TCP
 * alone keeps it "up" for minutes.
 *
 * Heartbeats go out on ticks a {@link HeartbeatTicker} shares among every connection of a server,
 * and the ticks fall on the wall clock's multiples of the interval, the same moments on every server
 * of the herd: an idle server wakes about once an interval to write all its heartbeats, and its
 * neighbours' arrive together, instead of a wake-up per connection and direction at its own phase.
 *
 * The detector is pure: no socket, only injected {@link Timers}, and callbacks to write a heartbeat
 * and to report death. The links call {@link FailureDetector.received} per chunk read (one
 * timestamp store) and {@link FailureDetector.sent} per write.
 */
import { SYSTEM_TIMERS, TimerAt, type Timers } from '../core/timers.js';

/** The heartbeat line of the link protocol, without its terminator (docs/protocol.md#heartbeats). */
export const HEARTBEAT_LINE = 'HEARTBEAT';

/** {@link HEARTBEAT_LINE} with its LF, as written on the socket: 10 bytes. */
export const HEARTBEAT_TEXT = `${HEARTBEAT_LINE}\n`;

/**
 * The heartbeat ticks of one server: every `intervalMs`, at `phaseMs` plus a multiple of the
 * interval on the timers' clock, one timer for every connection registered. With the system timers
 * the phase is the wall clock's, so the ticks of every server in a herd fall together.
 */
export class HeartbeatTicker {
  readonly intervalMs: number;
  private readonly timers: Timers;
  private readonly phaseMs: number;
  private readonly detectors = new Set<FailureDetector>();
  private readonly listeners = new Set<(nowMs: number) => void>();
  // Made once: an idle server runs the ticks and nothing else, so a tick allocates no closure.
  private readonly timer: TimerAt;
  private lastTickMs = Number.NEGATIVE_INFINITY;

  /**
   * @param phaseMs - where the ticks fall on the timers' clock, modulo the interval. @default the
   *   wall clock's whole intervals for {@link SYSTEM_TIMERS} (`performance.timeOrigin`), 0 for others
   */
  constructor(timers: Timers, intervalMs: number, phaseMs?: number) {
    this.timers = timers;
    this.intervalMs = intervalMs;
    this.phaseMs = phaseMs ?? (timers === SYSTEM_TIMERS ? -(performance.timeOrigin % intervalMs) : 0);
    this.timer = new TimerAt(timers, () => this.tick());
  }

  /** The tick at or before `nowMs`. */
  tickAtOrBefore(nowMs: number): number {
    const interval = this.intervalMs;
    return Math.floor((nowMs - this.phaseMs) / interval) * interval + this.phaseMs;
  }

  /**
   * Calls `listener` on every tick, before the detectors (so lines it queues count as written:
   * src/peers/plumtree.ts announces on the ticks). Listeners do not keep the ticks going: they run
   * while some connection is watched.
   *
   * @returns a function that removes the listener.
   */
  onTick(listener: (nowMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts ticking `detector` (and the timer, with the first). */
  add(detector: FailureDetector): void {
    this.detectors.add(detector);
    if (!this.timer.pending) this.schedule();
  }

  /** Stops ticking `detector` (and the timer, with the last). */
  remove(detector: FailureDetector): void {
    this.detectors.delete(detector);
    if (this.detectors.size === 0) this.timer.clear();
  }

  private schedule(): void {
    this.timer.set(this.tickAtOrBefore(this.timers.now()) + this.intervalMs);
  }

  private tick(): void {
    const now = this.timers.now();
    const previous = this.lastTickMs;
    this.lastTickMs = now;
    for (const listener of this.listeners) listener(now);
    // A detector stopped by its own heartbeat (a write that failed at once) leaves the set as it is
    // iterated; a Set's iteration skips what is deleted and needs no copy.
    for (const detector of this.detectors) detector.tick(now, previous);
    if (this.detectors.size > 0 && !this.timer.pending) this.schedule();
  }
}

/** Options of a {@link FailureDetector}. */
export interface FailureDetectorOptions {
  /** Clock and timers (src/core/timers.ts); tests inject hand-moved ones. */
  readonly timers: Timers;
  /**
   * Heartbeat ticks, every `peer.heartbeatIntervalMs`: a heartbeat goes out on a tick when nothing
   * was written since the tick before, so a live side is never silent for two intervals.
   */
  readonly heartbeatIntervalMs: number;
  /** Declare the connection dead when nothing was received for this long, ms (`peer.deadAfterMs`). */
  readonly deadAfterMs: number;
  /** Writes one {@link HEARTBEAT_TEXT}; called on a tick when nothing was written since the tick before. */
  readonly sendHeartbeat: () => void;
  /**
   * Called once, when nothing was received for `deadAfterMs`, with the silence in ms (measured from
   * the last byte received). The detector is stopped by then; the caller destroys the connection.
   */
  readonly onDead: (silentMs: number) => void;
  /** The server's shared ticks. @default a ticker of this detector's own (same interval and timers) */
  readonly ticker?: HeartbeatTicker;
  /**
   * Runs a callback after the I/O phase of the current event-loop turn. @default `setImmediate`
   * (the "check" phase, which follows "poll", where sockets are read)
   */
  readonly afterIo?: (callback: () => void) => void;
}

/**
 * Heartbeats and the dead line of one connection. Starts when constructed (the connection just came
 * up, which counts as both sent and received); {@link stop} it when the connection closes.
 */
export class FailureDetector {
  private readonly options: FailureDetectorOptions;
  private readonly timers: Timers;
  private readonly ticker: HeartbeatTicker;
  private lastReceivedMs: number;
  private lastSentMs: number;
  /** The exact dead line, armed only when it falls before the next tick (during a silence). */
  /** Meets a dead line that falls between two ticks. */
  private readonly deadTimer: TimerAt;
  private stopped = false;
  /** Heartbeats written since start. */
  heartbeatsSent = 0;

  constructor(options: FailureDetectorOptions) {
    this.options = options;
    this.timers = options.timers;
    this.ticker = options.ticker ?? new HeartbeatTicker(options.timers, options.heartbeatIntervalMs);
    const now = this.timers.now();
    this.lastReceivedMs = now;
    this.lastSentMs = now;
    this.deadTimer = new TimerAt(this.timers, () => {
      if (!this.stopped && this.timers.now() - this.lastReceivedMs >= this.options.deadAfterMs) this.checkAfterIo();
    });
    this.ticker.add(this);
  }

  /** Something arrived on the connection (any bytes, heartbeat or not). Costs one timestamp store. */
  received(): void {
    this.lastReceivedMs = this.timers.now();
  }

  /** Something was written on the connection: no heartbeat is due at the next tick. */
  sent(): void {
    this.lastSentMs = this.timers.now();
  }

  /** Stops for good (the connection closed): no more heartbeats, no death. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker.remove(this);
    this.deadTimer.clear();
  }

  /**
   * A tick of the server's ticker, at `nowMs`; the one before was at `previousMs` (or this is the
   * first since the detector started).
   */
  tick(nowMs: number, previousMs: number): void {
    if (this.stopped) return;
    const previous = Number.isFinite(previousMs) ? previousMs : nowMs - this.ticker.intervalMs;
    if (this.lastSentMs <= previous) {
      this.lastSentMs = nowMs;
      this.heartbeatsSent++;
      this.options.sendHeartbeat();
      if (this.stopped) return;
    }
    const deadLine = this.lastReceivedMs + this.options.deadAfterMs;
    if (nowMs >= deadLine) this.checkAfterIo();
    else if (deadLine < nowMs + this.ticker.intervalMs && !this.deadTimer.pending) {
      // A silence is under way and its dead line falls before the next tick: meet it exactly (never
      // early, which would leave the death to the next tick, up to a heartbeat interval late).
      this.deadTimer.set(deadLine);
    }
  }

  // Timers run before I/O in a loop turn: after the loop was blocked, the neighbour's bytes may be
  // waiting in the kernel while this check runs first. Look again once this turn's I/O is read.
  private checkAfterIo(): void {
    const afterIo = this.options.afterIo ?? setImmediate;
    afterIo(() => {
      if (this.stopped) return;
      const silentMs = this.timers.now() - this.lastReceivedMs;
      if (silentMs < this.options.deadAfterMs) return;
      this.stop();
      this.options.onDead(silentMs);
    });
  }
}
