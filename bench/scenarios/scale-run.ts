/**
 * One herd shape in one `peer.dissemination` mode, measured for the `scale` scenario
 * (docs/benchmarks.md "Scale"): `herd start` on a generated config (every server on loopback, the
 * product's defaults otherwise) with the bench's observer linked to the far side only, then
 *
 * - far-side propagation: IAMATs of new clients at the first server at a light rate, one at a time,
 *   each timed from its AT reply to the far server's copy reaching the observer;
 * - link lines and bytes per update: `herd_flood_sent_total` and `herd_flood_sent_bytes_total` of
 *   every server (links to the observer left out) over that light phase, divided by its updates
 *   (AT lines, and with `tree` the IHAVE announcements and grafted records);
 * - the herd's CPU per update (every server process) at the light rate, and at the most the herd
 *   takes (IAMATs pipelined at the first server until the far side has them all);
 * - `herd start` time (spawn to `servers up`), time until every link is up, RSS per server;
 * - convergence after one server (./scale-shapes.ts `victim`) is SIGKILLed, misses updates and is
 *   restarted by the supervisor: ms from its `is back` to it holding every missed update.
 */
import net from 'node:net';
import { DEFAULT_LINK_SETTINGS, type Dissemination } from '../../src/peers/link-settings.js';
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import {
  BENCH_SECRET,
  benchDir,
  latestMember,
  probeMemory,
  sleep,
  startHerdProcess,
  stopHerd,
  writeBenchConfig,
  type HerdHandle,
  type HerdMember,
} from '../bench-processes.js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from '../latency.js';
import { runLoad, type LoadTarget } from '../load-client.js';
import { HerdObserver } from '../observer.js';
import { iamatWriter } from '../request-writers.js';
import { farSide, victim, type Shape } from '../scale-shapes.js';

/** What one shape in one mode measured. */
export interface ScaleModeResult {
  readonly dissemination: Dissemination;
  /** Far-side propagation at the light rate. */
  readonly far: LatencySummary;
  readonly lines_per_update: number;
  readonly bytes_per_update: number;
  /** The herd's CPU (all servers) per update at the light rate, us. */
  readonly cpu_us_per_update_light: number;
  /** The same at the most the herd takes, us. */
  readonly cpu_us_per_update_max: number;
  /** Updates per second from the first IAMAT to the far side holding the last, at the most. */
  readonly max_rate_per_s: number;
  /** `herd start` from spawn to `servers up`, ms. */
  readonly start_ms: number;
  /** From spawn to every link up, ms. */
  readonly links_up_ms: number;
  /** Mean RSS of a server after the phases, MB. */
  readonly rss_mb_per_server: number;
  /** The server killed and restarted, and ms from its `is back` to holding every update it missed. */
  readonly victim: string;
  readonly restart_converge_ms: number;
}

/** Sizes of one run. */
export interface ScaleSizes {
  readonly lightUpdates: number;
  readonly lightRatePerSecond: number;
  readonly maxUpdates: number;
  /** Updates sent while the victim is down. */
  readonly missedUpdates: number;
}

/** The herds' heartbeat interval (the product's default): the tree announces on its ticks. */
const TICK_MS = DEFAULT_LINK_SETTINGS.heartbeatIntervalMs;

/** Longest wait for links, arrivals and convergence, ms. */
const WAIT_MS = 60_000;

async function getText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new BenchError(`${url}: HTTP ${response.status}`);
  return response.text();
}

/** Sum over `members` of a per-peer counter, links to `exclude` left out. */
async function sumCounter(members: readonly HerdMember[], metric: string, exclude: string): Promise<number> {
  const texts = await Promise.all(members.map((member) => getText(`${member.adminUrl as string}/metrics`)));
  let sum = 0;
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${metric}{`) || line.includes(`peer="${exclude}"`)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

async function allLinksUp(members: readonly HerdMember[]): Promise<boolean> {
  const statuses = await Promise.all(
    members.map(async (member) => JSON.parse(await getText(`${member.adminUrl as string}/status`)) as unknown),
  );
  return statuses.every((status) =>
    (status as { links: { status: string }[] }).links.every((row) => row.status === 'up'),
  );
}

async function cpuUs(pids: readonly number[], probeDir: string): Promise<number> {
  const probed = await Promise.all(pids.map((pid) => probeMemory(pid, probeDir)));
  return probed.reduce((sum, p) => sum + p.cpuUserUs + p.cpuSystemUs, 0);
}

/** Whether `target` answers a WHATSAT with an AT line for every one of `ids` (pipelined on one connection). */
function holdsAll(target: LoadTarget, ids: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.end(ids.map((id) => `WHATSAT ${id} 1 1\n`).join('')));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(text.split('\n').filter((line) => line.startsWith('AT ')).length === ids.length));
  });
}

/** Sends `IAMAT` lines one at a time on one connection; calls `onAck(tag, now)` for each AT reply. */
async function oneAtATime(
  target: LoadTarget,
  prefix: string,
  tags: readonly number[],
  ratePerSecond: number,
  onAck: (tag: number, nowMs: number) => void,
): Promise<void> {
  await runLoad({
    targets: [target],
    connections: 1,
    window: 1,
    writer: iamatWriter({ prefix }),
    requests: tags.length,
    firstTag: tags[0],
    ratePerSecond,
    onReply: onAck,
  });
}

/** Sends `count` IAMATs of new clients `<prefix><n>` at W=16 over `connections` connections; resolves once all are answered. */
async function pipelined(target: LoadTarget, prefix: string, count: number, connections: number): Promise<void> {
  await runLoad({
    targets: [target],
    connections,
    window: 16,
    writer: iamatWriter({ prefix }),
    requests: count,
    drainTimeoutMs: WAIT_MS,
  });
}

/**
 * Measures `shape` with `dissemination`.
 *
 * @param env - with the probe folder, for CPU and RSS; `nodeArgs` - the probe preload.
 * @throws {BenchError} when the herd does not start, link or deliver within a minute.
 */
export async function runScaleMode(
  context: BenchContext,
  shape: Shape,
  dissemination: Dissemination,
  sizes: ScaleSizes,
  probe: { dir: string; env: NodeJS.ProcessEnv; nodeArgs: readonly string[] },
): Promise<ScaleModeResult> {
  const { origin, far } = farSide(shape);
  const lost = victim(shape);
  const label = `scale ${shape.id} ${dissemination}`;
  const observer = await HerdObserver.listen({ secret: Buffer.from(BENCH_SECRET, 'utf8') });
  // Only client ids h<n> are timed: the light phase's.
  observer.trackedPrefix = 'h';
  const { dir, cleanup } = await benchDir();
  let herd: HerdHandle | undefined;
  try {
    const configFile = await writeBenchConfig(dir, {
      servers: shape.names,
      links: shape.links,
      logLevel: context.logLevel,
      observer: { name: observer.name, port: observer.port, linkedTo: [far] },
      peer: { dissemination },
      ...(context.scaleMemoryStore ? { store: { durable: false } } : {}),
    });
    context.progress.update(`${label}: herd start`);
    const start = (): Promise<HerdHandle> =>
      startHerdProcess(configFile, {
        nodeArgs: [...context.serverNodeArgs, ...probe.nodeArgs],
        args: ['--restart-delay', '500'],
        env: probe.env,
      });
    // On a loaded box a server of a large herd may miss `herd start`'s bound: one more try.
    herd = await start().catch(async () => {
      context.progress.update(`${label}: herd start again`);
      await sleep(2000);
      return start();
    });
    const started = herd;
    const startMs = started.upAtMs - started.spawnedAtMs;
    const members = started.members;
    const member = (name: string): HerdMember => {
      const found = latestMember(started, name);
      if (found === undefined) throw new BenchError(`${label}: ${name} is not in the herd's output`);
      return found;
    };
    const deadline = performance.now() + WAIT_MS;
    while (!(await allLinksUp(members)) || !observer.servers.has(far)) {
      if (performance.now() > deadline) throw new BenchError(`${label}: links not all up within ${WAIT_MS} ms`);
      await sleep(20);
    }
    const linksUpMs = performance.now() - started.spawnedAtMs;
    const originTarget = member(origin);

    // Light phase: the far side's copy of each update, timed from its acknowledgement.
    const warm = Math.min(20, sizes.lightUpdates);
    const total = warm + sizes.lightUpdates;
    const acked = new Float64Array(total).fill(Number.NaN);
    const arrived = new Float64Array(total).fill(Number.NaN);
    observer.onAt = (server, n, now) => {
      if (server.name === far && n >= 0 && n < total && Number.isNaN(arrived[n])) arrived[n] = now;
    };
    const waitArrivals = async (from: number, to: number): Promise<void> => {
      const until = performance.now() + WAIT_MS;
      for (let i = from; i < to; i++) {
        while (Number.isNaN(arrived[i])) {
          if (performance.now() > until) throw new BenchError(`${label}: update h${i} never reached ${far}`);
          await sleep(5);
        }
      }
    };
    const pids = (): number[] => shape.names.map((name) => member(name).pid);
    context.progress.update(`${label}: ${warm} warm-up updates`);
    const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
    await oneAtATime(originTarget, 'h', range(0, warm), sizes.lightRatePerSecond, (tag, now) => (acked[tag] = now));
    await waitArrivals(0, warm);
    // A tick for the trees' prunes to settle and the warm-up's announcements to go out.
    await sleep(TICK_MS * 1.5);
    context.progress.update(`${label}: ${sizes.lightUpdates} updates at ${sizes.lightRatePerSecond}/s`);
    const linesBefore = await sumCounter(members, 'herd_flood_sent_total', observer.name);
    const bytesBefore = await sumCounter(members, 'herd_flood_sent_bytes_total', observer.name);
    const cpuBefore = await cpuUs(pids(), probe.dir);
    await oneAtATime(
      originTarget,
      'h',
      range(warm, sizes.lightUpdates),
      sizes.lightRatePerSecond,
      (tag, now) => (acked[tag] = now),
    );
    await waitArrivals(warm, total);
    // The last announcements (one tick) belong to these updates.
    await sleep(TICK_MS * 1.2);
    const cpuLight = (await cpuUs(pids(), probe.dir)) - cpuBefore;
    const lines = (await sumCounter(members, 'herd_flood_sent_total', observer.name)) - linesBefore;
    const bytes = (await sumCounter(members, 'herd_flood_sent_bytes_total', observer.name)) - bytesBefore;
    const histogram = latencyHistogram();
    for (let i = warm; i < total; i++) recordMs(histogram, Math.max(0, (arrived[i] as number) - (acked[i] as number)));

    // The most the herd takes: pipelined at the first server until the far side has every one.
    context.progress.update(`${label}: ${sizes.maxUpdates} updates at the most`);
    let farCount = 0;
    observer.onAt = (server) => {
      if (server.name === far) farCount++;
    };
    const cpuBeforeMax = await cpuUs(pids(), probe.dir);
    const maxStarted = performance.now();
    await pipelined(originTarget, 'm', sizes.maxUpdates, 4);
    const maxUntil = performance.now() + WAIT_MS;
    while (farCount < sizes.maxUpdates) {
      if (performance.now() > maxUntil) throw new BenchError(`${label}: ${far} got ${farCount}/${sizes.maxUpdates}`);
      await sleep(5);
    }
    const maxMs = performance.now() - maxStarted;
    const cpuMax = (await cpuUs(pids(), probe.dir)) - cpuBeforeMax;
    const probed = await Promise.all(pids().map((pid) => probeMemory(pid, probe.dir)));
    const rssMb = probed.reduce((sum, p) => sum + p.rss, 0) / probed.length / 1048576;

    // A server is killed, misses updates, and is restarted by the supervisor.
    context.progress.update(`${label}: ${lost} killed and restarted`);
    const back = started.process.waitForLine(new RegExp(`^herd: ${lost} is back`), WAIT_MS);
    process.kill(member(lost).pid, 'SIGKILL');
    const missed = range(0, sizes.missedUpdates);
    await pipelined(originTarget, 'k', missed.length, 1);
    await back;
    const backAt = performance.now();
    const ids = missed.map((n) => `k${n}`);
    while (!(await holdsAll(member(lost), ids))) {
      if (performance.now() - backAt > WAIT_MS) throw new BenchError(`${label}: ${lost} did not catch up`);
      await sleep(10);
    }
    const convergeMs = performance.now() - backAt;
    return {
      dissemination,
      far: summarize(histogram),
      lines_per_update: Math.round((lines / sizes.lightUpdates) * 10) / 10,
      bytes_per_update: Math.round(bytes / sizes.lightUpdates),
      cpu_us_per_update_light: Math.round(cpuLight / sizes.lightUpdates),
      cpu_us_per_update_max: Math.round(cpuMax / sizes.maxUpdates),
      max_rate_per_s: Math.round((sizes.maxUpdates * 1000) / maxMs),
      start_ms: Math.round(startMs),
      links_up_ms: Math.round(linksUpMs),
      rss_mb_per_server: Math.round(rssMb * 10) / 10,
      victim: lost,
      restart_converge_ms: Math.round(convergeMs),
    };
  } finally {
    if (herd !== undefined) await stopHerd(herd);
    await observer.close();
    await cleanup();
  }
}
