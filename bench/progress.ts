/**
 * Progress of a long bench run on a terminal (long runs show progress on a terminal): one
 * line on stderr, rewritten in place at most every 200 ms; nothing when stderr is not a terminal, so
 * `--json` output and logs stay clean.
 */

/** Minimum interval between two redraws, ms. */
export const PROGRESS_REDRAW_MS = 200;

/** Writes a self-overwriting status line to a terminal. */
export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private readonly startedMs = performance.now();
  private lastDrawMs = 0;
  private shown = false;

  constructor(stream: NodeJS.WriteStream = process.stderr, enabled = stream.isTTY === true) {
    this.stream = stream;
    this.enabled = enabled;
  }

  /** Shows `text` (prefixed with the run's elapsed seconds) unless the last redraw was too recent. */
  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.lastDrawMs < PROGRESS_REDRAW_MS) return;
    this.lastDrawMs = now;
    const elapsed = ((now - this.startedMs) / 1000).toFixed(1).padStart(6);
    const width = (this.stream.columns ?? 100) - 1;
    this.stream.write(`\r\x1b[K${`[${elapsed} s] ${text}`.slice(0, width)}`);
    this.shown = true;
  }

  /** Clears the status line. */
  clear(): void {
    if (!this.enabled || !this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
