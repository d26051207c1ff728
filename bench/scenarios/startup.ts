/**
 * Scenario startup: how soon a server takes part, each figure beside its floor, a bare `node`
 * process that only listens, spawned the same way in the same run (one floor start before each
 * server start, so both see the same load):
 *
 * - one server (`herd serve`, durable store on a fresh data folder, the default place data, an admin
 *   port): spawn to its client port accepting; the time difference of an IAMAT sent the instant it
 *   accepts (a blocked loop would stamp it late); the longest event-loop block in the first 2 s (its
 *   own `startup-delay` event); its idle RSS;
 * - the default herd (`herd start`): spawn to every client port accepting, beside its own floor, a
 *   bare `node` supervisor forking five bare listeners (bench/floor-herd.cjs; one floor herd start
 *   before each herd start);
 * - one member restarted into the running herd the graders' way (`herd serve NAME` on its own, while
 *   a client checks in at a neighbour every few milliseconds): spawn to accepting, to every link up
 *   both ways, and to the first flood stored (from its log);
 * - `herd client NAME LINE`: spawn to exit;
 * - a server holding a large store (1,000,000 clients in a full run): spawn to accepting, and
 *   whether clients picked across the store are all answered at the first accept.
 *
 * Always on a fresh local config, also with `--config` (startup is a property of the product, not of
 * a running herd).
 */
import { rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import {
  BenchProcess,
  CLI,
  PACKAGE_ROOT,
  benchDir,
  defaultHerdNames,
  restartablePort,
  readRssBytes,
  sleep,
  startHerdProcess,
  stopHerd,
  writeBenchConfig,
  type HerdHandle,
} from '../bench-processes.js';
import { formatPosixTime } from '../../src/protocol/time.js';
import { connectTheInstantItAccepts } from '../../test/helpers/loopback.js';
import { herdStartBlocks, logEvent, type HerdStartBlocks } from './herd-logs.js';
import { writeLargeStore } from './large-store.js';
import { median } from '../median.js';
import { ratio, type StartupResult } from './startup-report.js';

/** The wall clock's POSIX time as a check-in carries it. */
const nowPosixTime = (): string => formatPosixTime(BigInt(Date.now()) * 1_000_000n);

export type { StartupResult } from './startup-report.js';

/** Clients asked at the first accept of the large-store server, spread over the store. */
const LARGE_STORE_PROBES = 20;

/** Sends `text` on `socket`, ends it, and resolves with everything the server answered. */
function converse(socket: net.Socket, text: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(reply));
    socket.end(text);
  });
}

/** Sends an IAMAT stamped now on `socket` and returns the server's time difference, ms. */
async function iamatNow(socket: net.Socket): Promise<number> {
  const time = nowPosixTime();
  const reply = await converse(socket, `IAMAT startup +34.068930-118.445127 ${time}\n`);
  const difference = reply.split(' ')[2];
  if (!reply.startsWith('AT ') || difference === undefined) throw new BenchError(`startup: IAMAT got ${reply}`);
  return Number(difference) * 1000;
}

/** Spawn to accepting of a bare `node` that only listens: the floor, spawned as the servers are. */
async function floorStart(): Promise<number> {
  const port = await restartablePort();
  const spawnedAt = performance.now();
  const child = new BenchProcess(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${port}, '127.0.0.1')`,
  ]);
  try {
    (await connectTheInstantItAccepts(port, 30_000)).destroy();
    return performance.now() - spawnedAt;
  } finally {
    await child.stop();
  }
}

/** The bare supervisor and listeners of {@link herdFloorStart}. */
const FLOOR_HERD = path.join(PACKAGE_ROOT, 'bench', 'floor-herd.cjs');

/**
 * Spawn to every port accepting of the floor of a whole herd: a bare `node` supervisor that forks
 * one bare listener per server of the default herd as `herd start` forks its servers
 * (bench/floor-herd.cjs), itself spawned as `herd start` is.
 */
async function herdFloorStart(servers: number): Promise<number> {
  const ports: number[] = [];
  for (let i = 0; i < servers; i++) ports.push(await restartablePort());
  const spawnedAt = performance.now();
  const child = new BenchProcess(process.execPath, [FLOOR_HERD, ...ports.map(String)]);
  try {
    await Promise.all(ports.map(async (port) => (await connectTheInstantItAccepts(port, 30_000)).destroy()));
    return performance.now() - spawnedAt;
  } finally {
    await child.stop();
  }
}

/**
 * A one-server config (`Alford`) in `dir` (fresh logs and data) on free ports, with an admin port.
 *
 * @returns the config file and the server's client port.
 */
export async function writeSoloConfig(
  dir: string,
  logLevel: BenchContext['logLevel'],
  name = 'startup.json',
): Promise<[string, number]> {
  await rm(path.join(dir, 'data'), { recursive: true, force: true });
  await rm(path.join(dir, 'logs'), { recursive: true, force: true });
  const port = await restartablePort();
  const configFile = path.join(dir, name);
  await writeFile(
    configFile,
    JSON.stringify({
      servers: [{ name: 'Alford', host: '127.0.0.1', port, peerPort: await restartablePort(), adminPort: 0 }],
      logDir: path.join(dir, 'logs'),
      dataDir: path.join(dir, 'data'),
      logLevel,
    }),
  );
  return [configFile, port];
}

/** One start of one server: until it accepts, the IAMAT at the accept, the first 2 s, its idle RSS. */
async function serverStart(
  dir: string,
  context: BenchContext,
): Promise<{ acceptMs: number; differenceMs: number; delayMs: number; rss: number }> {
  const [configFile, port] = await writeSoloConfig(dir, context.logLevel);
  const spawnedAt = performance.now();
  const child = new BenchProcess(process.execPath, [CLI, 'serve', 'Alford', '--config', configFile]);
  try {
    const socket = await connectTheInstantItAccepts(port, 30_000);
    const acceptMs = performance.now() - spawnedAt;
    const differenceMs = await iamatNow(socket);
    const delay = await logEvent(path.join(dir, 'logs', 'Alford.log'), (e) => e.event === 'startup-delay');
    const rss = (await readRssBytes(child.pid)) ?? 0;
    return { acceptMs, differenceMs, delayMs: delay.maxMs as number, rss };
  } finally {
    await child.stop();
  }
}

/** Spawn of `herd start` to every client port accepting; the herd is left running. */
async function herdStart(configFile: string, args: string[]): Promise<[HerdHandle, number]> {
  const herd = await startHerdProcess(configFile, { args });
  try {
    await Promise.all(
      herd.members.map(async (member) => (await connectTheInstantItAccepts(member.port, 30_000)).destroy()),
    );
    return [herd, performance.now() - herd.spawnedAtMs];
  } catch (error) {
    await stopHerd(herd);
    throw error;
  }
}

/**
 * The graders' restart: Alford is stopped, then started again on its own (`herd serve`, as `nohup`
 * would) while a client checks in at Hamilton every few milliseconds. Spawn to accepting, to every
 * link up both ways (its links out, and its neighbours' links in, from its log), and to the first
 * flood it stores of a check-in made after the spawn.
 */
async function restartStart(
  herd: HerdHandle,
  configFile: string,
  neighbours: readonly string[],
  logsInfo: boolean,
): Promise<{ acceptMs: number; linksMs: number | null; floodMs: number | null }> {
  const alford = herd.members.find((member) => member.name === 'Alford');
  const hamilton = herd.members.find((member) => member.name === 'Hamilton');
  if (alford === undefined || hamilton === undefined) throw new BenchError('startup: no Alford or Hamilton');
  const spawnedAtWall = Date.now();
  const spawnedAt = performance.now();
  const child = new BenchProcess(process.execPath, [CLI, 'serve', 'Alford', '--config', configFile]);
  let checkingIn = true;
  const checkIns = (async () => {
    for (let n = 0; checkingIn; n++) {
      const socket = net.connect({ host: '127.0.0.1', port: hamilton.port });
      socket.on('error', () => undefined);
      const time = nowPosixTime();
      await converse(socket, `IAMAT restart-probe-${n} +1+1 ${time}\n`).catch(() => '');
      await sleep(5);
    }
  })();
  try {
    (await connectTheInstantItAccepts(alford.port, 30_000)).destroy();
    const acceptMs = performance.now() - spawnedAt;
    // Links and floods are logged at info: below it there is nothing to read.
    if (!logsInfo) return { acceptMs, linksMs: null, floodMs: null };
    const after = (event: Record<string, unknown>): boolean => (event.time as number) >= spawnedAtWall;
    const flood = await logEvent(
      alford.logFile,
      (e) => after(e) && e.event === 'flood-stored' && String(e.clientId).startsWith('restart-probe-'),
    ).catch(() => undefined);
    // Each link's event, once written: the first flood can come in over one link before the last
    // link is up both ways, so a single read of the log at the flood could miss it.
    const linkEvent = (match: (event: Record<string, unknown>) => boolean): Promise<unknown> =>
      logEvent(alford.logFile, (e) => after(e) && match(e)).then(
        (event) => event.time,
        () => undefined,
      );
    const linkTimes = await Promise.all(
      neighbours.map((peer) =>
        Promise.all([
          linkEvent((e) => e.event === 'link-status' && e.link === 'out' && e.peer === peer && e.to === 'up'),
          linkEvent((e) => e.event === 'peer-connected' && e.peer === peer),
        ]),
      ),
    );
    const allUp = linkTimes.flat().every((time) => typeof time === 'number');
    return {
      acceptMs,
      linksMs: allUp ? Math.max(...(linkTimes.flat() as number[])) - spawnedAtWall : null,
      floodMs: flood === undefined ? null : (flood.time as number) - spawnedAtWall,
    };
  } finally {
    checkingIn = false;
    await checkIns;
    await child.stop();
  }
}

/** Spawn to exit of `herd client Ball 'IAMAT ...'` (one check-in, answered AT) against the running herd. */
async function clientRun(configFile: string): Promise<number> {
  const line = `IAMAT bench-client +1+1 ${nowPosixTime()}`;
  const spawnedAt = performance.now();
  const child = new BenchProcess(process.execPath, [CLI, 'client', 'Ball', '--config', configFile, line]);
  await child.whenExited();
  if (child.child.exitCode !== 0)
    throw new BenchError(`startup: herd client exited ${child.child.exitCode}: ${child.output.join('\n')}`);
  return performance.now() - spawnedAt;
}

/** Spawn to accepting of a server whose store holds `clients` clients, and how many probes it answered at once. */
async function largeStoreStart(
  dir: string,
  context: BenchContext,
  clients: number,
): Promise<{ acceptMs: number; answered: number; restoreMs: number | null }> {
  const [configFile, port] = await writeSoloConfig(dir, context.logLevel, 'large.json');
  const ids = await writeLargeStore(path.join(dir, 'data', 'Alford.sqlite'), clients, LARGE_STORE_PROBES);
  const spawnedAt = performance.now();
  const child = new BenchProcess(process.execPath, [CLI, 'serve', 'Alford', '--config', configFile]);
  try {
    const socket = await connectTheInstantItAccepts(port, 60_000);
    const acceptMs = performance.now() - spawnedAt;
    const reply = await converse(socket, ids.map((id) => `WHATSAT ${id} 1 1\n`).join(''));
    const answered = ids.filter((id) => reply.includes(` ${id} `)).length;
    const restored = await logEvent(
      path.join(dir, 'logs', 'Alford.log'),
      (e) => e.event === 'store-restored',
      600_000,
    ).catch(() => undefined);
    return { acceptMs, answered, restoreMs: restored === undefined ? null : (restored.ms as number) };
  } finally {
    await child.stop();
  }
}

/** Runs the startup scenario. */
export async function runStartup(context: BenchContext): Promise<StartupResult> {
  const { dir, cleanup } = await benchDir();
  const starts = context.sizes.serverStarts;
  try {
    const floorRuns: number[] = [];
    const serverRuns: number[] = [];
    const differences: number[] = [];
    const delays: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < starts; i++) {
      context.progress.update(`startup: one server, start ${i + 1} of ${starts} (and the floor)`);
      floorRuns.push(await floorStart());
      const run = await serverStart(dir, context);
      serverRuns.push(run.acceptMs);
      differences.push(run.differenceMs);
      delays.push(run.delayMs);
      rss.push(run.rss);
    }
    const herdRuns: number[] = [];
    const herdFloorRuns: number[] = [];
    const herdBlocks: HerdStartBlocks[] = [];
    const logsInfo = ['trace', 'debug', 'info'].includes(context.logLevel);
    const herdConfig = await writeBenchConfig(dir, { logLevel: context.logLevel, fixedPorts: true });
    const neighbours = ['Hamilton', 'Welsh'];
    // The last herd started stays up for the restarts and the clients (without restarts of its own).
    let herd: HerdHandle | undefined;
    for (let i = 0; i < context.sizes.herdStarts; i++) {
      context.progress.update(`startup: the herd, start ${i + 1} of ${context.sizes.herdStarts}`);
      await rm(path.join(dir, 'data'), { recursive: true, force: true });
      herdFloorRuns.push(await herdFloorStart(defaultHerdNames().length));
      const last = i === context.sizes.herdStarts - 1;
      const spawnedAt = Date.now();
      const [started, ms] = await herdStart(herdConfig, last ? ['--no-restart'] : []);
      herdRuns.push(ms);
      try {
        if (logsInfo) herdBlocks.push(await herdStartBlocks(started.members, spawnedAt));
      } catch (error) {
        // A member that never logs the end of its first 2 s: the herd is stopped all the same.
        await stopHerd(started);
        throw error;
      }
      if (last) herd = started;
      else await stopHerd(started);
    }
    if (herd === undefined) throw new BenchError('startup: no herd start');
    const restartRuns: { acceptMs: number; linksMs: number | null; floodMs: number | null }[] = [];
    const clientRuns: number[] = [];
    try {
      // Stopped once under the supervisor (--no-restart); each restart after that is stopped by the bench.
      const alford = herd.members.find((member) => member.name === 'Alford');
      if (alford === undefined) throw new BenchError('startup: no Alford');
      const exited = herd.process.waitForLine(/^herd: Alford exited/);
      process.kill(alford.pid, 'SIGTERM');
      await exited;
      for (let i = 0; i < starts; i++) {
        context.progress.update(`startup: a member restarted into the herd, ${i + 1} of ${starts}`);
        restartRuns.push(await restartStart(herd, herdConfig, neighbours, logsInfo));
      }
      for (let i = 0; i < starts; i++) {
        context.progress.update(`startup: herd client, ${i + 1} of ${starts}`);
        clientRuns.push(await clientRun(herdConfig));
      }
    } finally {
      await stopHerd(herd);
    }
    context.progress.update(
      `startup: a server holding ${context.sizes.largeStoreClients.toLocaleString('en-US')} clients`,
    );
    const large = await largeStoreStart(dir, context, context.sizes.largeStoreClients);
    const round = (ms: number): number => Math.round(ms);
    const hundredths = (ms: number): number => Math.round(ms * 100) / 100;
    const nullable = (values: (number | null)[]): number | null =>
      values.some((value) => value === null) ? null : round(median(values as number[]));
    return {
      floor_ms: round(median(floorRuns)),
      server_ms: round(median(serverRuns)),
      herd_ms: round(median(herdRuns)),
      herd_floor_ms: round(median(herdFloorRuns)),
      herd_to_floor: ratio(median(herdRuns), median(herdFloorRuns)),
      herd_start_blocks: logsInfo ? herdBlocks : null,
      restart_accept_ms: round(median(restartRuns.map((run) => run.acceptMs))),
      restart_links_ms: nullable(restartRuns.map((run) => run.linksMs)),
      restart_flood_ms: nullable(restartRuns.map((run) => run.floodMs)),
      client_ms: round(median(clientRuns)),
      large_store_clients: context.sizes.largeStoreClients,
      large_store_ms: round(large.acceptMs),
      large_store_answered: large.answered,
      large_store_probes: LARGE_STORE_PROBES,
      large_store_restore_ms: large.restoreMs,
      iamat_at_accept_ms: hundredths(median(differences)),
      max_loop_delay_ms: hundredths(median(delays)),
      idle_rss_bytes: round(median(rss)),
      floor_runs_ms: floorRuns.map(round),
      server_runs_ms: serverRuns.map(round),
      herd_runs_ms: herdRuns.map(round),
      herd_floor_runs_ms: herdFloorRuns.map(round),
      client_runs_ms: clientRuns.map(round),
      restart_runs: restartRuns.map((run) => ({ ...run, acceptMs: round(run.acceptMs) })),
    };
  } finally {
    await cleanup();
  }
}
