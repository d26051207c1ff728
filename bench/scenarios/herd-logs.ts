/**
 * What the startup scenario (./startup.ts) reads from the servers' logs (JSON lines,
 * docs/operations.md "Logs"): events as they are written, and a herd start's `loop-blocked` warnings.
 */
import { readFile } from 'node:fs/promises';
import { BenchError } from '../bench-error.js';
import { sleep, type HerdMember } from '../bench-processes.js';

/** The log events of `file` (JSON lines; a line cut by a concurrent write is skipped). */
export async function logEvents(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** The first event of `file` matching `match`, once it is written. */
export async function logEvent(
  file: string,
  match: (event: Record<string, unknown>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = (await logEvents(file)).find(match);
    if (found !== undefined) return found;
    if (performance.now() > deadline) throw new BenchError(`startup: no such event in ${file}`);
    await sleep(20);
  }
}

/** A herd start's `loop-blocked` turns: how many, and the length of each one logged. */
export interface HerdStartBlocks {
  /** Every such turn: the lines logged and the ones their `suppressed` field says were not. */
  readonly count: number;
  /** ms of each logged one (a server logs at most one a second). */
  readonly loggedMs: readonly number[];
}

/**
 * The `loop-blocked` turns of a herd's start: every member's, logged at or after `sinceMs` (epoch ms,
 * the spawn) and before its `startup-delay` event, which a server logs 2 s after it listens
 * (src/cli/serve.ts); read once every member has logged that one. A line's `suppressed` counts the
 * turns not logged since the line before (docs/operations.md "Logs"); those after a member's last
 * line in the window are not seen. Needs the servers at `info` or below.
 *
 * @param timeoutMs - how long to wait for each member's `startup-delay` event. @default 10,000
 * @throws {BenchError} when a member logs no `startup-delay` within `timeoutMs`.
 */
export async function herdStartBlocks(
  members: readonly HerdMember[],
  sinceMs: number,
  timeoutMs?: number,
): Promise<HerdStartBlocks> {
  const loggedMs: number[] = [];
  let count = 0;
  for (const member of members) {
    const since = (event: Record<string, unknown>): boolean => typeof event.time === 'number' && event.time >= sinceMs;
    const window = await logEvent(
      member.logFile,
      (event) => event.event === 'startup-delay' && since(event),
      timeoutMs,
    );
    for (const event of await logEvents(member.logFile)) {
      if (event.event !== 'loop-blocked' || !since(event) || (event.time as number) > (window.time as number)) continue;
      loggedMs.push(event.ms as number);
      count += 1 + (typeof event.suppressed === 'number' ? event.suppressed : 0);
    }
  }
  return { count, loggedMs };
}
