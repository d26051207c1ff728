/**
 * Anti-entropy catch-up (scenario `catch-up`): the default herd takes N distinct clients (100k in
 * a full run); one server is killed (SIGKILL), its data file deleted, and `herd start` restarts it
 * with an empty store. Its neighbours' links re-dial it, offer their digests, and send it every
 * record of the buckets it asks for (src/server/herd-server.ts, "Anti-entropy").
 *
 * - Time: from the restarted server listening (the supervisor prints it) until it holds all N
 *   clients, which the observer sees as the server's floods of N stored records.
 * - Bytes: the kernel's byte counts (`ss -tinp`) of the restarted server's sockets to and from its
 *   neighbours, both directions, read once they stop growing after it is caught up: greetings,
 *   digests, wanted buckets, the records, and the restarted server's re-flooding of what it stored
 *   (its neighbours find it stale).
 * - Records received and stored: its log's `anti-entropy-done` events (needs logLevel info).
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadHerdConfig, neighboursOf } from '../../src/config/herd-config.js';
import type { BenchContext } from '../bench-context.js';
import { BenchError, ScenarioSkipped } from '../bench-error.js';
import { killIfAlive, socketBytesOf, sleep } from '../bench-processes.js';
import { ingestAndConverge, startObservedHerd } from './observed-herd.js';

/** Delay before `herd start` restarts the killed server, ms: time to delete its data file. */
export const CATCH_UP_RESTART_DELAY_MS = 500;
/** Longest wait for the catch-up, ms. */
export const CATCH_UP_TIMEOUT_MS = 120_000;
/** The server that is restarted empty. */
export const CATCH_UP_VICTIM = 'Hamilton';

/** Catch-up figures, as `--json` reports them. */
export interface CatchUpResult {
  readonly clients: number;
  readonly server: string;
  /** Restarted server listening -> holds every client, ms. */
  readonly catch_up_ms: number;
  /** Kill -> holds every client (includes the restart delay and process start), ms. */
  readonly from_kill_ms: number;
  /** Bytes on the restarted server's links to its neighbours, both directions. */
  readonly bytes_exchanged: number;
  readonly bytes_per_client: number;
  /** Records its neighbours sent it, and how many were newer than what it held (from its log). */
  readonly records_received: number | null;
  readonly records_stored: number | null;
}

async function waitDead(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(10);
  }
  killIfAlive(pid);
}

/** Sums the `anti-entropy-done` events of process `pid` in a server log (JSON lines). */
async function antiEntropyFromLog(
  logFile: string,
  pid: number,
): Promise<{ received: number; stored: number; events: number } | undefined> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return undefined;
  }
  let received = 0;
  let stored = 0;
  let events = 0;
  for (const line of text.split('\n')) {
    if (!line.includes('"anti-entropy-done"') || !line.includes(`"pid":${pid},`)) continue;
    const event = JSON.parse(line) as { received?: number; stored?: number };
    received += event.received ?? 0;
    stored += event.stored ?? 0;
    events++;
  }
  return events > 0 ? { received, stored, events } : undefined;
}

/** Runs the catch-up scenario (only on a herd the bench starts). */
export async function runCatchUp(context: BenchContext): Promise<CatchUpResult> {
  if (context.target !== undefined)
    throw new ScenarioSkipped(
      'the catch-up scenario kills and restarts a server, so it runs only on a herd the bench starts (not with --config)',
    );
  const clients = context.sizes.catchUpClients;
  const observed = await startObservedHerd(context, {
    startArgs: ['--restart-delay', String(CATCH_UP_RESTART_DELAY_MS)],
  });
  try {
    const herd = observed.herd;
    const victim = herd?.members.find((member) => member.name === CATCH_UP_VICTIM);
    if (herd === undefined || victim === undefined || observed.dir === undefined)
      throw new BenchError(`no ${CATCH_UP_VICTIM} in the bench herd`);
    await ingestAndConverge(context, observed, {
      label: `catch-up, ${clients.toLocaleString('en-US')} clients`,
      prefix: 'ae-',
      firstTag: 0,
      count: clients,
      window: 256,
      expectedPerServer: () => clients,
      timeoutMs: CATCH_UP_TIMEOUT_MS,
    });
    // Let the last group commit reach the other servers' files (not needed for the catch-up, which
    // comes from their memory, but a realistic quiet point).
    await sleep(200);

    context.progress.update(`catch-up: killing ${victim.name} and deleting its data file`);
    const relisten = herd.process.waitForLine(
      new RegExp(`^\\s+${victim.name}\\s+\\S+:\\d+\\s+peer \\S+:\\d+\\s+pid (\\d+)`),
      CATCH_UP_TIMEOUT_MS,
    );
    const killedAt = performance.now();
    process.kill(victim.pid, 'SIGKILL');
    await waitDead(victim.pid);
    const dataFile = path.join(observed.dir, 'data', `${victim.name}.sqlite`);
    await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${dataFile}${suffix}`, { force: true })));
    const match = await relisten;
    const listeningAt = performance.now();
    const newPid = Number(match[1]);

    const deadline = listeningAt + CATCH_UP_TIMEOUT_MS;
    const seen = (): number => {
      const server = observed.observer.servers.get(victim.name);
      return server !== undefined && server.connections >= 2 ? server.atLinesThisConnection : 0;
    };
    while (seen() < clients) {
      if (performance.now() > deadline)
        throw new BenchError(
          `${victim.name} held ${seen()} of ${clients} clients ${CATCH_UP_TIMEOUT_MS} ms after its restart`,
        );
      context.progress.update(
        `catch-up: ${victim.name} holds ${seen().toLocaleString('en-US')} of ${clients.toLocaleString('en-US')} clients`,
      );
      await sleep(5);
    }
    const doneAt = performance.now();
    // What it stored it also floods on to its neighbours, maybe a moment later: count until quiet.
    const linkBytes = async (): Promise<number> =>
      (await socketBytesOf(newPid))
        .filter((socket) => socket.remotePort !== observed.observer.port)
        .reduce((sum, socket) => sum + socket.sent + socket.received, 0);
    let bytes = await linkBytes();
    for (let i = 0; i < 25; i++) {
      await sleep(200);
      const now = await linkBytes();
      if (now === bytes) break;
      bytes = now;
    }
    // The log is written asynchronously: give the last `anti-entropy-done` events a moment to land.
    const config = loadHerdConfig(path.join(observed.dir, 'herd.json'));
    const neighbours = neighboursOf(config, victim.name).filter((name) => name !== observed.observer.name).length;
    let fromLog = await antiEntropyFromLog(victim.logFile, newPid);
    for (let i = 0; i < 30 && (fromLog?.events ?? 0) < neighbours; i++) {
      await sleep(100);
      fromLog = await antiEntropyFromLog(victim.logFile, newPid);
    }
    return {
      clients,
      server: victim.name,
      catch_up_ms: Math.round(doneAt - listeningAt),
      from_kill_ms: Math.round(doneAt - killedAt),
      bytes_exchanged: bytes,
      bytes_per_client: Math.round(bytes / clients),
      records_received: fromLog?.received ?? null,
      records_stored: fromLog?.stored ?? null,
    };
  } finally {
    await observed.close();
  }
}
