/**
 * Event-loop blocks through a herd's life (docs/benchmarks.md "Event-loop blocks"): the default five
 * servers under `herd start`, each with bench/loop-block-probe.mjs, go through the events that do
 * much at once, a few seconds apart; each probe writes every turn that held its loop over 20 ms.
 * Printed per event: the server with the longest block by the main thread's own CPU time (what the
 * code spent; the wall time also counts waiting for a core on a shared machine), its wall time, how
 * many turns of the herd went past 20 ms of CPU, and the longest garbage-collection pause.
 *
 *     node --import tsx bench/loop-blocks.ts [clients]        # this checkout's build (npm run build first)
 *     HERD_BENCH_CLI=/tmp/main/dist/bundle/main.js node --import tsx bench/loop-blocks.ts   # another build
 *
 * The events: `clients` (default 100,000; a multiple of 10,000) new clients pipelined into Alford
 * (connections of 10,000 IAMATs, one after another); the first WHATSAT (offline places); SIGHUP to
 * Alford (log reopen); `herd status`; 20,000 bad lines at once; Hamilton frozen 4 s (SIGSTOP, a
 * silent link) and thawed; Welsh SIGKILLed and restarted by `herd start` (its store of `clients`
 * restored, anti-entropy both ways); the stop.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {
  CLI,
  PACKAGE_ROOT,
  benchDir,
  benchEnv,
  sleep,
  startHerdProcess,
  stopHerd,
  writeBenchConfig,
  type HerdMember,
} from './bench-processes.js';

const PROBE = path.join(PACKAGE_ROOT, 'bench', 'loop-block-probe.mjs');
/** A turn is a block when the main thread worked more than this in it, ms (LOOP_BLOCK_MS). */
const BLOCK_CPU_MS = 20;

interface ProbeLine {
  readonly name: string;
  readonly at: number;
  readonly wallMs: number;
  readonly cpuMs?: number;
  readonly gc?: number;
}

/** Writes `text` on a new connection to `port` and resolves once `lines` reply lines came back. */
function exchangeLines(port: number, text: string, lines: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let seen = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) seen++;
      if (seen >= lines) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

/** IAMATs per connection of the first event. */
const PER_CONNECTION = 10_000;

/**
 * `clients / PER_CONNECTION` connections of {@link PER_CONNECTION} IAMATs, one after another, new
 * clients around UCLA.
 */
async function load(port: number, clients: number): Promise<void> {
  const seconds = (Date.now() / 1000).toFixed(6);
  for (let k = 0; k < clients / PER_CONNECTION; k++) {
    const lines: string[] = [];
    for (let i = 0; i < PER_CONNECTION; i++) {
      const lat = `+34.0${String(i % 1000).padStart(3, '0')}`;
      const lng = `-118.4${k % 10}${String(i % 97).padStart(2, '0')}`;
      lines.push(`IAMAT c${k * PER_CONNECTION + i}.example.org ${lat}${lng} ${seconds}`);
    }
    await exchangeLines(port, `${lines.join('\n')}\n`, lines.length);
  }
}

function member(members: readonly HerdMember[], name: string): HerdMember {
  const found = members.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no ${name} in the herd`);
  return found;
}

async function main(): Promise<void> {
  const clients = Number(process.argv[2] ?? 100_000);
  if (!Number.isInteger(clients) || clients < PER_CONNECTION || clients % PER_CONNECTION !== 0) {
    process.stderr.write(`usage: node --import tsx bench/loop-blocks.ts [clients, a multiple of ${PER_CONNECTION}]\n`);
    process.exitCode = 2;
    return;
  }
  const { dir, cleanup } = await benchDir();
  const blocksDir = path.join(dir, 'blocks');
  await mkdir(blocksDir);
  const configFile = await writeBenchConfig(dir, { logLevel: 'info' });
  const herd = await startHerdProcess(configFile, {
    nodeArgs: ['--import', PROBE],
    env: benchEnv({ HERD_BENCH_BLOCKS_DIR: blocksDir }),
  });
  const marks: { event: string; at: number }[] = [{ event: 'start-up', at: 0 }];
  const mark = (event: string): void => void marks.push({ event, at: Date.now() });
  try {
    const alford = member(herd.members, 'Alford');
    await sleep(3_000);
    mark(`${clients.toLocaleString('en-US')} new clients pipelined into Alford`);
    await load(alford.port, clients);
    await sleep(5_000);
    mark('first WHATSAT (offline places)');
    await exchangeLines(alford.port, 'WHATSAT c1.example.org 10 5\n', 1);
    await sleep(2_000);
    mark('SIGHUP to Alford (log reopen)');
    process.kill(alford.pid, 'SIGHUP');
    await sleep(2_000);
    mark('herd status');
    try {
      execFileSync(process.execPath, [CLI, 'status', '--config', configFile], { stdio: 'ignore' });
    } catch {
      // Exit 1 while a server is not up: the figures are what matters here.
    }
    await sleep(2_000);
    mark('20,000 bad lines at Alford');
    await exchangeLines(alford.port, 'NONSENSE of no command at all\n'.repeat(20_000), 20_000);
    await sleep(2_000);
    mark('Hamilton frozen 4 s, then thawed');
    const hamilton = member(herd.members, 'Hamilton').pid;
    process.kill(hamilton, 'SIGSTOP');
    await sleep(4_000);
    process.kill(hamilton, 'SIGCONT');
    await sleep(4_000);
    mark('Welsh SIGKILLed, restarted: restore, anti-entropy');
    process.kill(member(herd.members, 'Welsh').pid, 'SIGKILL');
    await sleep(12_000);
    mark('stop');
  } finally {
    await stopHerd(herd);
  }
  const lines: ProbeLine[] = [];
  for (const file of await readdir(blocksDir)) {
    const text = await readFile(path.join(blocksDir, file), 'utf8');
    for (const line of text.split('\n')) if (line !== '') lines.push(JSON.parse(line) as ProbeLine);
  }
  await cleanup();
  report(marks, lines);
}

function report(marks: readonly { event: string; at: number }[], lines: readonly ProbeLine[]): void {
  console.log(`build ${CLI}`);
  console.log('event | longest block: server, CPU ms (wall ms) | turns over 20 ms CPU | longest GC pause, wall ms');
  marks.forEach(({ event, at }, i) => {
    const end = marks[i + 1]?.at ?? Number.POSITIVE_INFINITY;
    const inside = lines.filter((line) => line.at >= at && line.at < end);
    const turns = inside.filter((line) => line.gc === undefined);
    const gcs = inside.filter((line) => line.gc !== undefined);
    const longest = turns.reduce<ProbeLine | undefined>(
      (a, b) => ((b.cpuMs ?? 0) > (a?.cpuMs ?? -1) ? b : a),
      undefined,
    );
    const gc = gcs.reduce<ProbeLine | undefined>((a, b) => (b.wallMs > (a?.wallMs ?? -1) ? b : a), undefined);
    const blocks = turns.filter((line) => (line.cpuMs ?? 0) > BLOCK_CPU_MS).length;
    console.log(
      `${event} | ${longest === undefined ? '-' : `${longest.name} ${longest.cpuMs} (${longest.wallMs})`} | ${blocks} | ${
        gc === undefined ? '-' : `${gc.wallMs} (${gc.name}, ${gc.gc === 4 ? 'mark-compact' : 'scavenge'})`
      }`,
    );
  });
}

await main();
