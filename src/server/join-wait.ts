/**
 * At start, the wait for the links to the neighbours before the client port opens
 * (docs/operations.md "Start-up"): so a restarted server is in the flood from its first client.
 */
import type { LinkStatusRow } from '../core/status.js';
import { setDeadlineAfterIo, type Timers } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';

/** What {@link waitForLinks} needs. */
export interface JoinWaitOptions {
  /** The server's links, as `/status` shows them. */
  readonly links: { status(): readonly LinkStatusRow[] };
  /** `peer.joinTimeoutMs`: the longest wait, ms; 0 does not wait. */
  readonly timeoutMs: number;
  readonly timers: Timers;
  readonly logger: Logger;
}

/**
 * Resolves when every neighbour being dialled links to this server (its incoming link is up), or its
 * dial failed (it is down: not waited for), or after `timeoutMs`; logs which links came (`joined`).
 * The timeout's verdict waits for the I/O of the turn in which it fires (`setDeadlineAfterIo`): after an
 * event loop held past the deadline (a busy start), a neighbour's AUTH that arrived meanwhile is read
 * first, and its link counts, rather than the port opening without it.
 *
 * @param setCheck - receives the check to run whenever a link changes while waiting, and `undefined`
 *   once the wait is over.
 */
export function waitForLinks(
  options: JoinWaitOptions,
  setCheck: (check: (() => void) | undefined) => void,
): Promise<void> {
  const { links, timeoutMs, timers, logger } = options;
  const started = timers.now();
  const waitingFor = (): string[] =>
    links
      .status()
      .filter(
        (row) => !row.inbound && (row.status === 'connecting' || row.status === 'greeting' || row.status === 'up'),
      )
      .map((row) => row.peer);
  if (timeoutMs === 0 || waitingFor().length === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let over = false;
    const done = (timedOut: boolean): void => {
      over = true;
      setCheck(undefined);
      timers.clearTimeout(timer);
      const late = waitingFor();
      logger[timedOut ? 'warn' : 'info'](
        {
          event: 'joined',
          ms: Math.round(timers.now() - started),
          linked: links
            .status()
            .filter((row) => row.inbound)
            .map((row) => row.peer),
          ...(timedOut ? { waitingFor: late } : {}),
        },
        timedOut
          ? `links from ${late.join(', ')} not up within ${timeoutMs} ms (peer.joinTimeoutMs); taking clients anyway`
          : 'linked to every reachable neighbour; taking clients',
      );
      resolve();
    };
    const timer = setDeadlineAfterIo(timers, timeoutMs, () => {
      if (!over) done(waitingFor().length > 0);
    });
    setCheck(() => {
      if (!over && waitingFor().length === 0) done(false);
    });
  });
}
