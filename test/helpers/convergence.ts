/**
 * What the convergence tests over real processes share: fast peer settings, the bound on
 * convergence, the check that every server holds the newest update of every client, and which
 * servers of the default ring stay connected when some are down.
 */
import type { Dissemination } from '../../src/peers/link-settings.js';
import { DEFAULT_LINKS, DEFAULT_SERVERS, readTable, waitUntil, type RunningHerd } from './herd-process.js';

/** Anti-entropy runs every second in these tests so that convergence is quick to observe. */
export const FAST_PEERS = { reconnectBaseDelayMs: 50, reconnectMaxDelayMs: 300, antiEntropyIntervalMs: 1000 };

/** {@link FAST_PEERS} of a herd spreading with `dissemination` (docs/protocol.md#dissemination-flood-or-tree). */
export const fastPeers = (dissemination: Dissemination): typeof FAST_PEERS & { dissemination: Dissemination } => ({
  ...FAST_PEERS,
  dissemination,
});
/** The bound this suite states: after the last fault, every server agrees within this. */
export const CONVERGENCE_BOUND_MS = 15_000;

/** Client id -> the location and client time every server must end with. */
export type Expected = Map<string, { location: string; time: string }>;

/** Polls every server until all hold the same AT line per client, matching `expected`. Returns ms taken. */
export async function assertConverged(
  herd: RunningHerd,
  expected: Expected,
  boundMs = CONVERGENCE_BOUND_MS,
): Promise<number> {
  const started = Date.now();
  const ids = [...expected.keys()];
  let last = '';
  try {
    await waitUntil(
      async () => {
        const tables = await Promise.all(DEFAULT_SERVERS.map((name) => readTable(herd.port(name), ids)));
        for (const id of ids) {
          const want = expected.get(id);
          const lines = tables.map((table) => table.get(id));
          const first = lines[0];
          if (first === undefined || lines.some((line) => line !== first)) {
            last = `${id}: ${JSON.stringify(lines)}`;
            return false;
          }
          const fields = first.split(' ');
          if (fields[4] !== want?.location || fields[5] !== want?.time) {
            last = `${id}: ${first} but the newest sent was ${JSON.stringify(want)}`;
            return false;
          }
        }
        return true;
      },
      boundMs,
      'every server to hold the newest update of every client',
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last difference: ${last}`, { cause: error });
  }
  return Date.now() - started;
}

/** Servers still connected to `origin` in the default ring when `down` are stopped. */
export function reachable(origin: string, down: ReadonlySet<string>): Set<string> {
  const seen = new Set([origin]);
  const queue = [origin];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    for (const [a, b] of DEFAULT_LINKS) {
      const next = a === at ? b : b === at ? a : undefined;
      if (next !== undefined && !down.has(next) && !seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
