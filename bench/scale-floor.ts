/**
 * The floor of the `scale` scenario, measured in the same run as each shape: bare relay processes
 * (bench/relay-server.mjs), one per server, linked along the tree of shortest paths from the first
 * server, so every line costs exactly N-1 messages. The bench writes tagged lines to the first relay
 * at the light rate, one at a time, and times each from its echo to its arrival from the far relay:
 * the same span the herd's far-side propagation covers. Also: the time to start them all (the floor
 * of `herd start`), and their CPU per line.
 */
import net from 'node:net';
import path from 'node:path';
import { BenchError } from './bench-error.js';
import { BenchProcess, PACKAGE_ROOT, memoryProbeNodeArgs, probeMemory, sleep } from './bench-processes.js';
import { latencyHistogram, recordMs, summarize, type LatencySummary } from './latency.js';
import { hopsFrom, type HerdGraph } from './scale-shapes.js';

/**
 * Bytes of a tracked update's AT line with its LF (`AT S00 +0.000123456 h123 +34.068930-118.445127
 * 1700000000.000000123`), about what a herd floods: the floor's relays send lines as long.
 */
export const AT_LINE_BYTES = 'AT S00 +0.000123456 h123 +34.068930-118.445127 1700000000.000000123\n'.length;

/** The relay program. */
export const RELAY_SERVER = path.join(PACKAGE_ROOT, 'bench', 'relay-server.mjs');

/** What the floor measured for one shape. */
export interface RelayFloorResult {
  /** ms from spawning every relay to the last one listening. */
  readonly start_ms: number;
  /** Far-side delay of each line, from the first relay's echo to the far relay's copy. */
  readonly far: LatencySummary;
  /** CPU of all relays per line, us. */
  readonly cpu_us_per_update: number;
  /** Bytes of each line with its LF. */
  readonly line_bytes: number;
}

/** Parent -> children of the tree of shortest paths from `shape.names[0]` (first found). */
function shortestPathTree(shape: HerdGraph): Map<string, string[]> {
  const origin = shape.names[0] as string;
  const hops = hopsFrom(shape, origin);
  const children = new Map<string, string[]>(shape.names.map((name) => [name, []]));
  for (const name of shape.names) {
    if (name === origin) continue;
    const depth = hops.get(name) as number;
    const parent = shape.names.find(
      (other) =>
        hops.get(other) === depth - 1 &&
        shape.links.some(([a, b]) => (a === other && b === name) || (a === name && b === other)),
    ) as string;
    children.get(parent)?.push(name);
  }
  return children;
}

/** Notes in `times[n]` when each line `T<n> ...` arrives on `socket` (`performance.now()`). */
function stampArrivals(socket: net.Socket, times: Float64Array): void {
  let partial = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    const now = performance.now();
    const lines = (partial + text).split('\n');
    partial = lines.pop() as string;
    for (const line of lines) times[Number(line.slice(1, line.indexOf(' ')))] = now;
  });
}

async function cpuUs(pids: readonly number[], probeDir: string): Promise<number> {
  const probed = await Promise.all(pids.map((pid) => probeMemory(pid, probeDir)));
  return probed.reduce((sum, p) => sum + p.cpuUserUs + p.cpuSystemUs, 0);
}

/**
 * Starts the relays of `shape`, sends `updates` lines of `lineBytes` bytes at `ratePerSecond` one
 * at a time, and stops them.
 *
 * @param env - with the probe folder (and HERD_BENCH_PROBE_GC=0), for the CPU reading.
 * @throws {BenchError} when a relay does not start or a line does not arrive within 10 s.
 */
export async function runRelayFloor(
  shape: HerdGraph,
  options: { updates: number; ratePerSecond: number; lineBytes: number; probeDir: string; env: NodeJS.ProcessEnv },
): Promise<RelayFloorResult> {
  const sink = net.createServer({ noDelay: true });
  await new Promise<void>((resolve) => sink.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const relays = new Map<string, { process: BenchProcess; port: number }>();
  const arrived = new Float64Array(options.updates).fill(Number.NaN);
  let origin: net.Socket | undefined;
  try {
    sink.on('connection', (socket) => stampArrivals(socket, arrived));
    const started = performance.now();
    const spawned = shape.names.map((name, i) => {
      const args = [...memoryProbeNodeArgs(), RELAY_SERVER, ...(i === 0 ? ['--echo'] : [])];
      return { name, process: new BenchProcess(process.execPath, args, { env: options.env, stdin: true }) };
    });
    await Promise.all(
      spawned.map(async ({ name, process: child }) => {
        const match = await child.waitForLine(/^listening (\d+)/);
        relays.set(name, { process: child, port: Number(match[1]) });
      }),
    );
    const startMs = performance.now() - started;
    const far = [...hopsFrom(shape, shape.names[0] as string)].sort((a, b) => a[1] - b[1]).at(-1)?.[0] as string;
    const links: Promise<void>[] = [];
    for (const [parent, children] of shortestPathTree(shape)) {
      const relay = relays.get(parent) as { process: BenchProcess; port: number };
      const ports = children.map((child) => relays.get(child)?.port as number);
      if (parent === far) ports.push((sink.address() as net.AddressInfo).port);
      // One relay's children one after another: a waiter each at once would pile exit listeners on it.
      links.push(
        (async () => {
          for (const port of ports) {
            const linked = relay.process.waitForLine(new RegExp(`^linked ${port}$`), 10_000);
            relay.process.child.stdin?.write(`child ${port}\n`);
            await linked;
          }
        })(),
      );
    }
    await Promise.all(links);
    const first = relays.get(shape.names[0] as string) as { port: number };
    const socket = net.connect({ host: '127.0.0.1', port: first.port });
    origin = socket;
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const echoed = new Float64Array(options.updates).fill(Number.NaN);
    stampArrivals(socket, echoed);
    const pids = [...relays.values()].map((relay) => relay.process.pid);
    const before = await cpuUs(pids, options.probeDir);
    const padding = 'x'.repeat(Math.max(0, options.lineBytes - 12));
    const gapMs = 1000 / options.ratePerSecond;
    const t0 = performance.now();
    for (let tag = 0; tag < options.updates; tag++) {
      const due = t0 + tag * gapMs - performance.now();
      if (due > 0) await sleep(due);
      socket.write(`T${tag} ${padding}\n`);
    }
    const deadline = performance.now() + 10_000;
    while (arrived.some(Number.isNaN) || echoed.some(Number.isNaN)) {
      if (performance.now() > deadline) throw new BenchError(`relay floor of ${shape.label}: lines were lost`);
      await sleep(10);
    }
    const after = await cpuUs(pids, options.probeDir);
    const histogram = latencyHistogram();
    for (let tag = 0; tag < options.updates; tag++)
      recordMs(histogram, Math.max(0, (arrived[tag] as number) - (echoed[tag] as number)));
    return {
      start_ms: Math.round(startMs),
      far: summarize(histogram),
      cpu_us_per_update: Math.round((after - before) / options.updates),
      line_bytes: `T0 ${padding}\n`.length,
    };
  } finally {
    origin?.destroy();
    await Promise.all([...relays.values()].map((relay) => relay.process.stop()));
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}
