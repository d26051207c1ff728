/**
 * Scenario `cost` (issue "The hot path at the limit"): server CPU time per operation, the figure that
 * noise on a shared machine moves least. Each is `process.cpuUsage()` of the server process (read by
 * the bench's probe preload, bench/memory-probe.mjs, without a garbage collection) over a fixed
 * count of operations, divided by that count:
 *
 * - `iamat`: one server, no peers; IAMATs of distinct new clients at W=16 (each stored, persisted,
 *   logged and answered);
 * - `flood_stored`: a server with one neighbour; the bench dials its peer port as that neighbour,
 *   passes the handshake and sends AT lines of new clients (each parsed, stored, persisted, logged;
 *   split horizon sends nothing back);
 * - `flood_stale`: the same lines again, so every one is stale (the commonest flood in a herd: the
 *   same update arriving by a second path);
 * - `whatsat`: `WHATSAT <client> 10 20` in a dense area at W=16 (look-up, JSON, reply, log).
 *
 * - `echo_line`: the floor, the echo server (bench/echo-server.ts) answering the same IAMAT lines at
 *   W=16, measured the same way in the same run: every figure above is read as a multiple of it;
 * - the light-load and idle figures of ./cost-light.ts.
 *
 * Each figure is read after a warm-up of the same kind of operation, not counted ({@link COST_WARMUP}):
 * the first operations a fresh process runs carry V8's compiling of their path (a fifth to a quarter
 * of a cold IAMAT figure) and, for WHATSAT, the first look-up of each client, which the issue's
 * figure ("cached") leaves out. The echo server gets the same warm-up.
 *
 * Each reading after the operations waits until the server is at rest (bench/process-probes.ts
 * `whenQuiet`): the store commits a burst's rows on its writer thread after the last reply, and that
 * work belongs to the burst (before 2026-12-03 it was charged to the next figure: the stale floods
 * carried the stored floods' commits).
 *
 * The profile of where the time goes: `npm run bench -- --only cost --cpu-prof DIR`.
 */
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { checkWelcome, offerHello, parseGreeting, type LinkIdentity } from '../../src/peers/handshake.js';
import type { BenchContext } from '../bench-context.js';
import { BenchError, ScenarioSkipped } from '../bench-error.js';
import {
  BENCH_SECRET,
  PROBE_DIR_ENV,
  benchDir,
  benchEnv,
  freeLoopbackPort,
  memoryProbeNodeArgs,
  probeMemory,
  sleep,
  startEchoProcess,
  startServe,
  whenPlacesReady,
  whenQuiet,
  type QuietOptions,
  type ServeHandle,
} from '../bench-processes.js';
import { runLoad, type LoadTarget } from '../load-client.js';
import { iamatWriter } from '../request-writers.js';
import { lightCostRows, runLightCost, type LightCostResult } from './cost-light.js';
import { checkInDenseClients, sendDenseWhatsats } from './whatsat.js';

/** Operations per measured figure in a full run (and in `--quick`). */
export const COST_OPERATIONS = { full: 100_000, quick: 5_000 } as const;
/** WHATSATs per measured figure: they cost several times an IAMAT. */
export const COST_WHATSATS = { full: 20_000, quick: 1_000 } as const;
/**
 * Operations sent before each figure and not counted: echoed lines, IAMATs, floods (new clients, then
 * the same again), WHATSATs (the same clients as the measured ones, so those are answered from kept
 * documents).
 */
export const COST_WARMUP = { full: 20_000, quick: 500 } as const;
/** AT lines per write of the bench's neighbour (one TCP chunk of about 50 KB). */
const FLOOD_LINES_PER_WRITE = 512;
/**
 * Most CPU a window at rest may hold, as a share of one core, when the servers run under
 * `--cpu-prof`: V8's sampling thread alone takes about 6% of a core (a sample a millisecond), so
 * the default 2% would never be reached.
 */
const PROFILED_REST_SHARE = 0.1;

/** Server CPU per operation, microseconds, as `--json` reports it under `cost_us`. */
export interface CostResult {
  /** The floor: CPU of the echo server (bench/echo-server.ts) per line, the same IAMAT lines at W=16. */
  readonly echo_line: number;
  readonly iamat: number;
  readonly flood_stored: number;
  readonly flood_stale: number;
  readonly whatsat: number;
  /** Operations behind each figure. */
  readonly operations: { readonly iamat: number; readonly floods: number; readonly whatsat: number };
  /** The light-load and idle figures (./cost-light.ts). */
  readonly light: LightCostResult;
}

/** CPU time of a whole process (every thread) so far, microseconds (user + system). */
async function cpuUs(server: { readonly pid: number }, probeDir: string): Promise<number> {
  const probed = await probeMemory(server.pid, probeDir);
  return probed.cpuUserUs + probed.cpuSystemUs;
}

/**
 * CPU microseconds the process spends on `work`, per operation: read before it and once the process
 * is at rest after it ({@link whenQuiet}), so the work it leaves behind (commits of its rows on the
 * store's writer thread) counts for it, not for the figure measured next. `warmUp` runs first, and
 * the process comes to rest after it, uncounted.
 */
async function perOperation(
  server: { readonly pid: number },
  probeDir: string,
  operations: number,
  work: () => Promise<unknown>,
  rest: QuietOptions = {},
  warmUp?: () => Promise<unknown>,
): Promise<number> {
  if (warmUp !== undefined) {
    await warmUp();
    await whenQuiet(server.pid, rest);
  }
  const before = await cpuUs(server, probeDir);
  await work();
  await whenQuiet(server.pid, rest);
  const after = await cpuUs(server, probeDir);
  return Math.round(((after - before) / operations) * 100) / 100;
}

/** Sends `text` and resolves once it is all handed to the kernel. */
function writeAll(socket: net.Socket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(text, (error) => (error === undefined || error === null ? resolve() : reject(error)));
  });
}

/** The bench playing neighbour `Peer`: dials `server`'s peer port and passes the handshake. */
async function dialAsNeighbour(server: ServeHandle, self: LinkIdentity): Promise<net.Socket> {
  const socket = net.connect({ host: server.peer.host, port: server.peer.port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const offer = offerHello(self);
  const welcome = await new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const newline = text.indexOf('\n');
      if (newline === -1) return;
      socket.off('data', onData);
      resolve(text.slice(0, newline));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(offer.line);
  });
  const verdict = checkWelcome(parseGreeting(welcome), self, server.name, offer);
  if (!verdict.ok) throw new BenchError(`cost: ${server.name} refused the bench's handshake: ${verdict.reason}`);
  if (verdict.authLine !== undefined) socket.write(verdict.authLine);
  socket.resume();
  return socket;
}

/** Resolves once `server` answers a WHATSAT for `clientId` with its AT line (the flood before it was taken). */
async function whenKnown(server: LoadTarget, clientId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: server.host, port: server.port, allowHalfOpen: true });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.end(`WHATSAT ${clientId} 0.001 1\n`));
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    if (reply.startsWith('AT ')) return;
    if (performance.now() > deadline) throw new BenchError(`cost: ${clientId} did not arrive within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Sends `lines` over the link in chunks, then a marker update, and waits until the server has taken it. */
async function flood(link: net.Socket, server: ServeHandle, lines: readonly string[], marker: string): Promise<void> {
  for (let start = 0; start < lines.length; start += FLOOD_LINES_PER_WRITE) {
    await writeAll(link, `${lines.slice(start, start + FLOOD_LINES_PER_WRITE).join('\n')}\n`);
  }
  await writeAll(link, `AT Peer +0.000000001 ${marker} +1+1 1700000000\n`);
  await whenKnown(server, marker);
}

/** Writes a one-server config (optionally with an external neighbour that never listens). */
async function writeCostConfig(dir: string, name: string, context: BenchContext, neighbour: boolean): Promise<string> {
  const servers: Record<string, unknown>[] = [{ name, host: '127.0.0.1', port: 0, peerPort: 0 }];
  if (neighbour) {
    const port = await freeLoopbackPort();
    servers.push({ name: 'Peer', host: '127.0.0.1', port, peerPort: await freeLoopbackPort(), external: true });
  }
  const file = path.join(dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      servers,
      links: neighbour ? [[name, 'Peer']] : [],
      logDir: path.join(dir, 'logs'),
      dataDir: path.join(dir, 'data'),
      logLevel: context.logLevel,
    }),
  );
  return file;
}

/** Runs the cost scenario on servers the bench starts. */
export async function runCost(context: BenchContext): Promise<CostResult> {
  if (context.target !== undefined)
    throw new ScenarioSkipped('the cost scenario reads the CPU time of servers the bench starts (not with --config)');
  const operations = context.quick ? COST_OPERATIONS.quick : COST_OPERATIONS.full;
  const whatsats = context.quick ? COST_WHATSATS.quick : COST_WHATSATS.full;
  const warmups = context.quick ? COST_WARMUP.quick : COST_WARMUP.full;
  /** IAMATs (or echoed lines) at W=16 to `target`, each a new client id of `prefix`. */
  const iamats = (target: LoadTarget, prefix: string, requests: number) => () =>
    runLoad({
      targets: [target],
      connections: context.connections,
      window: 16,
      writer: iamatWriter({ prefix }),
      requests,
    });
  /** WHATSATs at W=16 for the dense clients. */
  const whatsatLoad = (target: LoadTarget, requests: number) => () =>
    sendDenseWhatsats(target, context.connections, requests);
  const { dir, cleanup } = await benchDir();
  const env = benchEnv({ [PROBE_DIR_ENV]: dir, HERD_BENCH_PROBE_GC: '0' });
  const nodeArgs = [...memoryProbeNodeArgs(), ...context.serverNodeArgs];
  const rest: QuietOptions = context.serverNodeArgs.includes('--cpu-prof') ? { maxShare: PROFILED_REST_SHARE } : {};
  const started: ServeHandle[] = [];
  try {
    context.progress.update(`cost: ${operations.toLocaleString('en-US')} echoed lines`);
    const echo = await startEchoProcess({ nodeArgs: memoryProbeNodeArgs(), env });
    let echoLine: number;
    try {
      echoLine = await perOperation(
        echo,
        dir,
        operations,
        iamats(echo.target, 'cost-', operations),
        {},
        iamats(echo.target, 'warm-', warmups),
      );
    } finally {
      await echo.process.stop();
    }
    const solo = await startServe(await writeCostConfig(dir, 'Solo', context, false), 'Solo', { nodeArgs, env });
    started.push(solo);
    await whenPlacesReady([solo]);
    context.progress.update(`cost: ${operations.toLocaleString('en-US')} IAMATs`);
    const iamat = await perOperation(
      solo,
      dir,
      operations,
      iamats(solo, 'cost-', operations),
      rest,
      iamats(solo, 'warm-', warmups),
    );
    await checkInDenseClients(solo);
    context.progress.update(`cost: ${whatsats.toLocaleString('en-US')} WHATSATs`);
    const whatsat = await perOperation(
      solo,
      dir,
      whatsats,
      whatsatLoad(solo, whatsats),
      rest,
      whatsatLoad(solo, warmups),
    );
    await solo.process.stop();

    const relay = await startServe(await writeCostConfig(dir, 'Relay', context, true), 'Relay', { nodeArgs, env });
    started.push(relay);
    const link = await dialAsNeighbour(relay, {
      name: 'Peer',
      incarnation: `bench-${Date.now()}`,
      secret: Buffer.from(BENCH_SECRET, 'utf8'),
    });
    try {
      const seconds = Math.floor(Date.now() / 1000) - 3600;
      const linesOf = (prefix: string, count: number): string[] =>
        Array.from(
          { length: count },
          (_, i) => `AT Peer +0.000000001 ${prefix}${i} +34.068930-118.445127 ${seconds}.${String(i).padStart(9, '0')}`,
        );
      const lines = linesOf('flood-', operations);
      const warmLines = linesOf('warm-flood-', warmups);
      context.progress.update(`cost: ${operations.toLocaleString('en-US')} new floods`);
      const floodStored = await perOperation(
        relay,
        dir,
        operations,
        () => flood(link, relay, lines, 'marker-1'),
        rest,
        () => flood(link, relay, warmLines, 'warm-marker-1'),
      );
      context.progress.update(`cost: ${operations.toLocaleString('en-US')} stale floods`);
      const floodStale = await perOperation(
        relay,
        dir,
        operations,
        () => flood(link, relay, lines, 'marker-2'),
        rest,
        () => flood(link, relay, warmLines, 'warm-marker-2'),
      );
      link.destroy();
      await relay.process.stop();
      const light = await runLightCost(context);
      return {
        echo_line: echoLine,
        iamat,
        flood_stored: floodStored,
        flood_stale: floodStale,
        whatsat,
        operations: { iamat: operations, floods: operations, whatsat: whatsats },
        light,
      };
    } finally {
      link.destroy();
    }
  } finally {
    for (const server of started) await server.process.stop();
    await cleanup();
  }
}

/** The table rows of the cost figures: scenario, figure, value, and four empty columns. */
export function costRows(cost: CostResult): (readonly [string, string, string, string, string, string])[] {
  const us = (n: number): string => (n >= 100 ? String(Math.round(n)) : n.toFixed(1));
  const count = (n: number): string => n.toLocaleString('en-US');
  // Each figure as a multiple of the floor measured in the same run: only ratios compare across runs.
  const ratio = (n: number): string => `${(n / cost.echo_line).toFixed(1)}x echo`;
  return [
    [
      'cost',
      `echo server CPU per line, us (${count(cost.operations.iamat)}, W=16): the floor`,
      us(cost.echo_line),
      '',
      '1.0x echo',
      '',
    ],
    [
      'cost',
      `server CPU per IAMAT, us (${count(cost.operations.iamat)}, W=16)`,
      us(cost.iamat),
      '',
      ratio(cost.iamat),
      '<= 4x',
    ],
    [
      'cost',
      `server CPU per stored flood, us (${count(cost.operations.floods)})`,
      us(cost.flood_stored),
      '',
      ratio(cost.flood_stored),
      '<= 3x',
    ],
    [
      'cost',
      `server CPU per stale flood, us (${count(cost.operations.floods)})`,
      us(cost.flood_stale),
      '',
      ratio(cost.flood_stale),
      '<= 1x',
    ],
    [
      'cost',
      `server CPU per WHATSAT, us (${count(cost.operations.whatsat)}, 10 km, bound 20)`,
      us(cost.whatsat),
      '',
      ratio(cost.whatsat),
      '<= 8x',
    ],
    ...lightCostRows(cost.light),
  ];
}
