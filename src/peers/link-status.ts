/**
 * Where one link is in its life, with its one writer (both link kinds use it: ./outgoing-link.ts,
 * ./incoming-link.ts). Every change is logged once, as `link-status` with `from`, `to` and the
 * change's own fields (docs/operations.md#logs).
 */
import type { Logger } from '../observability/logger.js';

/** Options of a {@link LinkStatus}. */
export interface LinkStatusOptions<S extends string> {
  /** The state a link starts in (not logged). */
  readonly initial: S;
  /** The link's logger; its bindings name the link (`peer` when known, and `link`: `out` or `in`). */
  readonly log: Logger;
  /** The link as people read it, at the time of a change (`link to Ball`, `link from Ball`). */
  readonly title: () => string;
  /** Fields the logger's bindings cannot hold, read at each change (an incoming link's `peer`, once known). */
  readonly fields?: () => Record<string, unknown>;
  /** Called after each change, with the new state. */
  readonly onChange?: (state: S) => void;
}

/** One link's state: read anywhere, changed only through {@link set}. */
export class LinkStatus<S extends string> {
  private current: S;
  private readonly options: LinkStatusOptions<S>;

  constructor(options: LinkStatusOptions<S>) {
    this.options = options;
    this.current = options.initial;
  }

  /** The current state. */
  get value(): S {
    return this.current;
  }

  /**
   * Moves to `to` and logs the transition (info) with `details` (e.g. `reason`, `incarnation`);
   * nothing happens when the link is in `to` already.
   */
  set(to: S, details: Record<string, unknown> = {}): void {
    const from = this.current;
    if (to === from) return;
    this.current = to;
    this.options.onChange?.(to);
    const { log, title, fields } = this.options;
    log.info({ event: 'link-status', ...fields?.(), from, to, ...details }, `${title()}: ${from} -> ${to}`);
  }
}
