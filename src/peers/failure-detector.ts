/**
 * The failure detector of one link connection (docs/protocol.md "Heartbeats"; issue 12): the idea of
 * SWIM and HashiCorp memberlist (probe, timeout, declare) cut down to the one connection between two
 * neighbours. Each side writes a heartbeat line when it has written nothing for
 * `heartbeatIntervalMs`, and declares the connection dead when it has received nothing for
 * `deadAfterMs`. A silent network (a switch port, a security group, a pulled cable) then ends a
 * link within `deadAfterMs`, where TCP alone keeps it "up" for minutes.
 *
 * The detector is pure: no socket, only injected {@link Timers}, and callbacks to write a heartbeat
 * and to report death. The links call {@link FailureDetector.received} per chunk read (one
 * timestamp store) and {@link FailureDetector.sent} per write.
 */
import type { TimerHandle, Timers } from '../core/timers.js';

/** The heartbeat line of the link protocol, without its terminator (docs/protocol.md "Heartbeats"). */
export const HEARTBEAT_LINE = 'HEARTBEAT';

/** {@link HEARTBEAT_LINE} with its LF, as written on the socket: 10 bytes. */
export const HEARTBEAT_TEXT = `${HEARTBEAT_LINE}\n`;

/** Options of a {@link FailureDetector}. */
export interface FailureDetectorOptions {
  /** Clock and timers (src/core/timers.ts); tests inject hand-moved ones. */
  readonly timers: Timers;
  /** Write a heartbeat when nothing was written for this long, ms (`peer.heartbeatIntervalMs`). */
  readonly heartbeatIntervalMs: number;
  /** Declare the connection dead when nothing was received for this long, ms (`peer.deadAfterMs`). */
  readonly deadAfterMs: number;
  /** Writes one {@link HEARTBEAT_TEXT}; called when nothing was written for `heartbeatIntervalMs`. */
  readonly sendHeartbeat: () => void;
  /**
   * Called once, when nothing was received for `deadAfterMs`, with the silence in ms (measured from
   * the last byte received). The detector is stopped by then; the caller destroys the connection.
   */
  readonly onDead: (silentMs: number) => void;
  /**
   * Runs a callback after the I/O phase of the current event-loop turn. @default `setImmediate`
   * (the "check" phase, which follows "poll", where sockets are read)
   */
  readonly afterIo?: (callback: () => void) => void;
}

/**
 * Heartbeats and the dead timer of one connection. Starts when constructed (the connection just
 * came up, which counts as both sent and received); {@link stop} it when the connection closes.
 */
export class FailureDetector {
  private readonly options: FailureDetectorOptions;
  private readonly timers: Timers;
  private lastReceivedMs: number;
  private lastSentMs: number;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Heartbeats written since start. */
  heartbeatsSent = 0;

  constructor(options: FailureDetectorOptions) {
    this.options = options;
    this.timers = options.timers;
    const now = this.timers.now();
    this.lastReceivedMs = now;
    this.lastSentMs = now;
    this.schedule(now);
  }

  /** Something arrived on the connection (any bytes, heartbeat or not). Costs one timestamp store. */
  received(): void {
    this.lastReceivedMs = this.timers.now();
  }

  /** Something was written on the connection: no heartbeat is due for another interval. */
  sent(): void {
    this.lastSentMs = this.timers.now();
  }

  /** Stops the timers for good (the connection closed). */
  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  // One timer, due at the earlier of the next heartbeat and the dead line.
  private schedule(now: number): void {
    const { heartbeatIntervalMs, deadAfterMs } = this.options;
    const due = Math.min(this.lastSentMs + heartbeatIntervalMs, this.lastReceivedMs + deadAfterMs);
    this.timer = this.timers.setTimeout(() => this.tick(), Math.max(0, due - now));
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const { heartbeatIntervalMs, deadAfterMs, sendHeartbeat } = this.options;
    const now = this.timers.now();
    if (now - this.lastSentMs >= heartbeatIntervalMs) {
      this.lastSentMs = now;
      this.heartbeatsSent++;
      sendHeartbeat();
      if (this.stopped) return;
    }
    if (now - this.lastReceivedMs < deadAfterMs) {
      this.schedule(now);
      return;
    }
    // Timers run before I/O in a loop turn: after the loop was blocked, the neighbour's bytes may be
    // waiting in the kernel while this timer fires first. Look again once this turn's I/O is read.
    const afterIo = this.options.afterIo ?? setImmediate;
    afterIo(() => {
      if (this.stopped) return;
      const checkedAt = this.timers.now();
      const silentMs = checkedAt - this.lastReceivedMs;
      if (silentMs < deadAfterMs) {
        this.schedule(checkedAt);
        return;
      }
      this.stop();
      this.options.onDead(silentMs);
    });
  }
}
