/**
 * The CPU one `herd serve` spends per WHATSAT, builds in turn: the cost scenario's WHATSATs (300
 * clients checked in across dense areas, `WHATSAT <client> 10 20`, 50 connections at W=16; see
 * docs/benchmarks.md "Cost per operation") on a server that holds only those clients, so that the
 * figure is the command's own and not the garbage collection of a large store. Each run measures
 * several rounds on one server: the first round pays the first look-ups and V8's compiling, the
 * later ones are the steady state. CPU is every thread's, from `/proc/<pid>/task/<tid>/schedstat`.
 * Not a scenario of `npm run bench`: a tool to run by hand; Linux only.
 *
 *     node --import tsx bench/whatsat-cpu.ts [RUNS] [WHATSATS] [CLI ...]   # default: 3 runs, 40,000, this checkout's build
 *     node --import tsx bench/whatsat-cpu.ts 3 40000 /tmp/main/dist/bundle/main.js dist/bundle/main.js
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLI, benchEnv, sleep, startServe } from './bench-processes.js';
import { BENCH_CONNECTIONS } from './run-bench.js';
import { threadsCpuNs } from './process-probes.js';
import { median } from './median.js';
import { checkInDenseClients, sendDenseWhatsats } from './scenarios/whatsat.js';

/** Rounds of WHATSATs per run: the first is the warm-up. */
const ROUNDS = 4;
/** A pause before each round, so that the round before has settled, ms. */
const SETTLE_MS = 500;

/** One server of `cli`: µs of CPU per WHATSAT in each round. */
async function runOnce(cli: string, whatsats: number): Promise<number[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'whatsat-cpu-'));
  const configFile = path.join(dir, 'herd.json');
  await writeFile(
    configFile,
    JSON.stringify({
      servers: [{ name: 'Solo', host: '127.0.0.1', port: 0, peerPort: 0 }],
      logDir: path.join(dir, 'logs'),
      dataDir: path.join(dir, 'data'),
      logLevel: 'info',
    }),
  );
  const server = await startServe(configFile, 'Solo', { env: benchEnv(), cli });
  try {
    await checkInDenseClients(server);
    const perRound: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await sleep(SETTLE_MS);
      const before = await threadsCpuNs(server.pid);
      await sendDenseWhatsats(server, BENCH_CONNECTIONS, whatsats);
      await sleep(SETTLE_MS);
      perRound.push(((await threadsCpuNs(server.pid)) - before) / 1e3 / whatsats);
    }
    return perRound;
  } finally {
    await server.process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const runs = Number(process.argv[2] ?? 3);
const whatsats = Number(process.argv[3] ?? 40_000);
const clis = process.argv.length > 4 ? process.argv.slice(4).map((cli) => path.resolve(cli)) : [CLI];
const steady = new Map<string, number[]>(clis.map((cli) => [cli, []]));
for (let i = 0; i < runs; i++) {
  for (const cli of clis) {
    const rounds = await runOnce(cli, whatsats);
    steady.get(cli)?.push(...rounds.slice(1));
    process.stdout.write(
      `${cli} run ${i + 1}: us per WHATSAT by round ${rounds.map((us) => us.toFixed(2)).join(' ')}\n`,
    );
  }
}
for (const [cli, list] of steady)
  process.stdout.write(
    `${cli}: median of ${list.length} rounds after the first: ${median(list).toFixed(2)} us per WHATSAT\n`,
  );
