/**
 * The herd of the soak (docs/benchmarks.md "Soak"): the shipped default herd as five `herd serve`
 * processes on loopback, one link of which (the first of the config, Alford-Hamilton) runs through
 * a {@link CuttableProxy} each way so that the soak can flap it while both servers stay up. Each
 * server reads its own copy of the config, which differs from the others' only in where that link's
 * other end listens: Alford dials Hamilton through one proxy and Hamilton dials Alford through the
 * other, while every other link is direct. Also reads each server's memory and descriptors.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { builtInHerdFile, loadHerdConfig, type HerdConfig } from '../src/config/herd-config.js';
import { isServerStatus } from '../src/core/status.js';
import { BenchError } from './bench-error.js';
import { benchEnv, freeLoopbackPort, readRssBytes, sleep, startServe, type ServeHandle } from './bench-processes.js';
import type { ChurnTarget } from './churn-load.js';
import { CuttableProxy } from '../test/helpers/cuttable-proxy.js';

/** Longest wait for every link of the soak herd to be up, ms. */
export const SOAK_LINKS_UP_TIMEOUT_MS = 30_000;

/** The V8 heap gauge's sample line in a `/metrics` answer (prom-client's default metrics); group 1 its value. */
const HEAP_SAMPLE = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m;

/** One server of the soak herd. */
export interface SoakServer extends ChurnTarget {
  readonly process: ServeHandle;
  /** `http://host:port` of its admin server. */
  readonly adminUrl: string;
}

/** One server's memory and descriptors at one moment. */
export interface ServerSample {
  readonly name: string;
  /** VmRSS, bytes. */
  readonly rss_bytes: number;
  /** `nodejs_heap_size_used_bytes` of its `/metrics` (no forced collection), bytes. */
  readonly heap_used_bytes: number | null;
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
  for (const name of names) peerPorts.set(name, await freeLoopbackPort());
  // proxies.get(x): where the other end of the flapping link dials x.
  const proxies = new Map<string, CuttableProxy>();
  const proxyPorts = new Map<string, number>();
  for (const name of [a, b]) {
    const { proxy, port } = await CuttableProxy.start({ host: '127.0.0.1', port: peerPorts.get(name) as number });
    proxies.set(name, proxy);
    proxyPorts.set(name, port);
  }
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
      started.push(await startServe(file, self, { env: benchEnv() }));
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
          const [rss, fds, metrics] = await Promise.all([
            readRssBytes(pid),
            countFds(pid),
            fetch(`${server.adminUrl}/metrics`).then(
              (response) => response.text(),
              () => '',
            ),
          ]);
          const heap = Number(HEAP_SAMPLE.exec(metrics)?.[1]);
          return { name: server.name, rss_bytes: rss ?? -1, heap_used_bytes: Number.isFinite(heap) ? heap : null, fds };
        }),
      ),
    stop,
  };
}
