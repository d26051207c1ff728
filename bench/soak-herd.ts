/**
 * The herd of the soak (docs/benchmarks.md "Soak"): the shipped default herd as five `herd serve`
 * processes on loopback, one link of which (the first of the config, Alford-Hamilton) runs through
 * a {@link CuttableProxy} each way so that the soak can flap it while both servers stay up. Each
 * server reads its own copy of the config, which differs from the others' only in where that link's
 * other end listens: Alford dials Hamilton through one proxy and Hamilton dials Alford through the
 * other, while every other link is direct. Also reads each server's memory and descriptors: its
 * resident set as an operator sees it, and what it retains after two full garbage collections,
 * through the bench's memory probe (bench/memory-probe.mjs; the product is unchanged).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { builtInHerdFile, loadHerdConfig, type HerdConfig } from '../src/config/herd-config.js';
import { isServerStatus } from '../src/core/status.js';
import { BenchError } from './bench-error.js';
import {
  PROBE_DIR_ENV,
  PROBE_SETTLE_ENV,
  benchEnv,
  restartablePort,
  memoryProbeNodeArgs,
  probeMemory,
  readRssBytes,
  sleep,
  startServe,
  type ServeHandle,
} from './bench-processes.js';
import type { ChurnTarget } from './churn-load.js';
import { CuttableProxy } from '../test/helpers/cuttable-proxy.js';

/** Longest wait for every link of the soak herd to be up, ms. */
export const SOAK_LINKS_UP_TIMEOUT_MS = 30_000;

/**
 * Longest wait for a server's memory probe, ms: two full collections and a file write, on a box that
 * the soak's load keeps busy.
 */
export const SOAK_PROBE_TIMEOUT_MS = 120_000;
/**
 * How long the probe waits after the collections before it reads, ms. V8 hands the pages a
 * collection freed back to the system on a background thread: read at once, the RSS still holds up
 * to 10 MB of them (measured under the soak's load), and a second later it does not.
 */
export const SOAK_PROBE_SETTLE_MS = 2000;

/** One server of the soak herd. */
export interface SoakServer extends ChurnTarget {
  readonly process: ServeHandle;
  /** `http://host:port` of its admin server. */
  readonly adminUrl: string;
}

/**
 * One server's memory and descriptors at one moment (docs/benchmarks.md "Soak"). `rss_bytes` is
 * read first, as an operator would see it; then the probe runs two full garbage collections and,
 * {@link SOAK_PROBE_SETTLE_MS} later, reads the resident set and the V8 heap again, inside the
 * process at the same moment.
 */
export interface ServerSample {
  readonly name: string;
  /** VmRSS before the collections, bytes: what `ps` and `/proc/<pid>/status` show. */
  readonly rss_bytes: number;
  /**
   * What the process retains, bytes: its RSS after the collections (`process.memoryUsage()`)
   * minus the resident V8 heap without a live object in it (v8.getHeapStatistics()'s
   * `total_physical_size` minus `heapUsed`). Every native byte (buffers, sockets,
   * SQLite and its writer thread, malloc's arenas, code) and every live JavaScript object counts;
   * only the room that V8 keeps for garbage it has not yet made does not.
   */
  readonly retained_bytes: number;
  /** Live V8 heap after the collections (`heapUsed`), bytes. */
  readonly heap_used_bytes: number;
  /** V8 heap reserved after the collections (`heapTotal`), bytes. */
  readonly heap_total_bytes: number;
  /** Memory of Buffers and other objects outside the V8 heap that it tracks (`external`), bytes. */
  readonly external_bytes: number;
  /** Open file descriptors (`/proc/<pid>/fd`). */
  readonly fds: number;
}

/** The running soak herd. */
export interface SoakHerd {
  readonly servers: readonly SoakServer[];
  /** The flapping link, as `A-B`. */
  readonly flapLink: string;
  /** Cuts the flapping link both ways (every connection through it dropped, new ones refused). */
  cut(): void;
  /** Heals it. */
  heal(): void;
  /** Resolves once every outgoing link of every server is up. @throws {BenchError} after `timeoutMs`. */
  whenLinksUp(timeoutMs?: number): Promise<void>;
  /** Every server's memory and descriptors now. */
  sample(): Promise<ServerSample[]>;
  /** Stops the servers and the proxies. */
  stop(): Promise<void>;
}

async function countFds(pid: number): Promise<number> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length;
  } catch {
    return -1;
  }
}

/**
 * Writes the configs into `dir` and starts the herd; resolves once every server listens (links may
 * still be coming up: {@link SoakHerd.whenLinksUp}).
 */
export async function startSoakHerd(dir: string, logLevel: HerdConfig['logLevel']): Promise<SoakHerd> {
  const shipped = loadHerdConfig(builtInHerdFile('default'));
  const names = shipped.servers.map((server) => server.name);
  const [a, b] = shipped.links[0] as [string, string];
  const peerPorts = new Map<string, number>();
  for (const name of names) peerPorts.set(name, await restartablePort());
  // proxies.get(x): where the other end of the flapping link dials x.
  const proxies = new Map<string, CuttableProxy>();
  const proxyPorts = new Map<string, number>();
  for (const name of [a, b]) {
    const { proxy, port } = await CuttableProxy.start({ host: '127.0.0.1', port: peerPorts.get(name) as number });
    proxies.set(name, proxy);
    proxyPorts.set(name, port);
  }
  const probeDir = path.join(dir, 'probe');
  await mkdir(probeDir);
  const started: ServeHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((handle) => handle.process.stop()));
    await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
  };
  try {
    for (const self of names) {
      const other = self === a ? b : self === b ? a : undefined;
      const config = {
        servers: names.map((name) => ({
          name,
          host: '127.0.0.1',
          port: 0,
          peerPort: name === other ? (proxyPorts.get(name) as number) : (peerPorts.get(name) as number),
          adminPort: 0,
        })),
        links: shipped.links,
        logDir: path.join(dir, 'logs'),
        dataDir: path.join(dir, 'data'),
        logLevel,
      };
      const file = path.join(dir, `herd-${self}.json`);
      await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
      started.push(
        await startServe(file, self, {
          nodeArgs: memoryProbeNodeArgs(),
          env: benchEnv({ [PROBE_DIR_ENV]: probeDir, [PROBE_SETTLE_ENV]: String(SOAK_PROBE_SETTLE_MS) }),
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const servers = started.map((handle): SoakServer => {
    const adminUrl = handle.process.output.map((line) => /; admin (http:\/\/\S+),/.exec(line)?.[1]).find(Boolean);
    if (adminUrl === undefined) throw new BenchError(`${handle.name} printed no admin URL`);
    return { name: handle.name, host: handle.host, port: handle.port, process: handle, adminUrl };
  });
  const linksUp = async (): Promise<boolean> => {
    const all = await Promise.all(
      servers.map(async (server) => {
        const status: unknown = await (await fetch(`${server.adminUrl}/status`)).json();
        return isServerStatus(status) && status.links.every((link) => link.status === 'up' && link.inbound);
      }),
    );
    return all.every(Boolean);
  };
  return {
    servers,
    flapLink: `${a}-${b}`,
    cut: () => proxies.forEach((proxy) => proxy.partition()),
    heal: () => proxies.forEach((proxy) => proxy.heal()),
    whenLinksUp: async (timeoutMs = SOAK_LINKS_UP_TIMEOUT_MS) => {
      const deadline = performance.now() + timeoutMs;
      while (!(await linksUp())) {
        if (performance.now() > deadline)
          throw new BenchError(`the soak herd's links were not all up within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    sample: () =>
      Promise.all(
        servers.map(async (server): Promise<ServerSample> => {
          const pid = server.process.pid;
          const rss = await readRssBytes(pid);
          if (rss === undefined) throw new BenchError(`could not read the resident set of ${server.name} (pid ${pid})`);
          const probed = await probeMemory(pid, probeDir, SOAK_PROBE_TIMEOUT_MS);
          return {
            name: server.name,
            rss_bytes: rss,
            retained_bytes: probed.rss - (probed.heapPhysical - probed.heapUsed),
            heap_used_bytes: probed.heapUsed,
            heap_total_bytes: probed.heapTotal,
            external_bytes: probed.external,
            fds: await countFds(pid),
          };
        }),
      ),
    stop,
  };
}
