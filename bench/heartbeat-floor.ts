/**
 * The floor beside the idle herd's CPU (./scenarios/cost-light.ts): two bare `node` processes doing
 * only the heartbeat I/O of the busiest idle member of the shipped herd (./heartbeat-floor.mjs).
 */
import path from 'node:path';
import { defaultHerdGraph } from './bench-config.js';
import { BenchError } from './bench-error.js';
import { BenchProcess, PACKAGE_ROOT } from './bench-processes.js';

/** The floor's program. */
export const HEARTBEAT_FLOOR = path.join(PACKAGE_ROOT, 'bench', 'heartbeat-floor.mjs');
/** TCP connections of one link: one per flooding direction (docs/operations.md "Between servers"). */
const CONNECTIONS_PER_LINK = 2;
/** How long the floor's connections may take to come up, ms. */
const DIAL_TIMEOUT_MS = 10_000;

/** Connections of the shipped herd's member with the most links: the floor's connections per process. */
export function idleMemberConnections(): number {
  const { names, links } = defaultHerdGraph();
  const most = Math.max(...names.map((name) => links.filter(([a, b]) => a === name || b === name).length));
  return most * CONNECTIONS_PER_LINK;
}

/** Two running floor processes, joined. */
export interface HeartbeatFloor {
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/**
 * Starts two floor processes, the second dialling the first with {@link idleMemberConnections}
 * connections, and resolves once all are up.
 *
 * @throws {BenchError} when a process does not start or its connections do not come up in time.
 */
export async function startHeartbeatFloor(options: {
  nodeArgs: readonly string[];
  env: NodeJS.ProcessEnv;
}): Promise<HeartbeatFloor> {
  const pair = [0, 1].map(
    () => new BenchProcess(process.execPath, [...options.nodeArgs, HEARTBEAT_FLOOR], { env: options.env, stdin: true }),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(pair.map((each) => each.stop()));
  };
  try {
    const second = pair[1] as BenchProcess;
    // Both at once: a waiter sees only the lines printed after it is set.
    const [listening] = await Promise.all(pair.map((each) => each.waitForLine(/^listening (\d+)/)));
    const port = Number((listening as RegExpExecArray)[1]);
    const dialled = second.waitForLine(new RegExp(`^dialled ${port}$`), DIAL_TIMEOUT_MS);
    second.child.stdin?.write(`dial ${port} ${idleMemberConnections()}\n`);
    await dialled.catch((error: unknown) => {
      throw new BenchError(`the heartbeat floor did not connect: ${String(error)}`);
    });
    return { pids: pair.map((each) => each.pid), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
