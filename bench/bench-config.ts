/**
 * The herd configs a bench run writes: the shipped default herd's servers and links (or the ones a
 * scenario names) on 127.0.0.1, with the product's defaults for everything else. Re-exported by
 * ./bench-processes.ts.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { builtInHerdFile, loadHerdConfig, type HerdConfig } from '../src/config/herd-config.js';
import { restartablePort } from '../test/helpers/loopback.js';
import type { HerdGraph } from './scale-shapes.js';

/** What {@link writeBenchConfig} writes. */
export interface BenchConfigOptions {
  /** Server names; defaults to the shipped default herd's. */
  readonly servers?: readonly string[];
  /** Links; defaults to the shipped default herd's (when `servers` is not given). */
  readonly links?: readonly (readonly [string, string])[];
  /** pino level of the servers. */
  readonly logLevel: HerdConfig['logLevel'];
  /** An external server (the bench's observer), linked to every other one or to `linkedTo` only. */
  readonly observer?: { readonly name: string; readonly port: number; readonly linkedTo?: readonly string[] };
  /** Overrides of `store`. */
  readonly store?: Partial<HerdConfig['store']>;
  /** Overrides of `peer` (link settings). */
  readonly peer?: Partial<HerdConfig['peer']>;
  /**
   * Free loopback ports instead of 0 for every client and peer port, so that a member started on its
   * own (`herd serve`, not under `herd start`) finds its neighbours in the config. @default false
   */
  readonly fixedPorts?: boolean;
}

/**
 * Writes a herd config into `dir` (`<dir>/herd.json`): the servers on 127.0.0.1 port 0 (admin port 0
 * too when the shipped herd has admin ports), logs and data under `dir`, product defaults for
 * everything else (store durable with group commit, offline places).
 */
export async function writeBenchConfig(dir: string, options: BenchConfigOptions): Promise<string> {
  const shipped = loadHerdConfig(builtInHerdFile('default'));
  const names = options.servers ?? shipped.servers.map((server) => server.name);
  const links: [string, string][] = (options.links ?? (options.servers === undefined ? shipped.links : [])).map(
    ([a, b]) => [a, b],
  );
  // As shipped: an admin server (metrics) where the shipped herd has one, on port 0 here.
  const withAdmin = shipped.servers.some((server) => server.adminPort !== undefined);
  const servers: {
    name: string;
    host: string;
    port: number;
    peerPort?: number;
    adminPort?: number;
    external?: boolean;
  }[] = [];
  for (const name of names) {
    const ports =
      options.fixedPorts === true ? { port: await restartablePort(), peerPort: await restartablePort() } : { port: 0 };
    servers.push({ name, host: '127.0.0.1', ...ports, ...(withAdmin ? { adminPort: 0 } : {}) });
  }
  if (options.observer !== undefined) {
    // The observer is only a peer port; an external member needs a client port too, which nobody dials.
    const observerPort = options.observer.port;
    const unusedClientPort = observerPort < 65535 ? observerPort + 1 : observerPort - 1;
    servers.push({
      name: options.observer.name,
      host: '127.0.0.1',
      port: unusedClientPort,
      peerPort: observerPort,
      external: true,
    });
    for (const name of options.observer.linkedTo ?? names) links.push([name, options.observer.name]);
  }
  const config = {
    servers,
    links,
    logDir: path.join(dir, 'logs'),
    dataDir: path.join(dir, 'data'),
    logLevel: options.logLevel,
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.peer === undefined ? {} : { peer: options.peer }),
  };
  const file = path.join(dir, 'herd.json');
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** The shipped default herd's servers and links (one read of herds/default.json), in config order. */
export function defaultHerdGraph(): HerdGraph {
  const shipped = loadHerdConfig(builtInHerdFile('default'));
  return {
    label: 'the default herd',
    names: shipped.servers.map((server) => server.name),
    links: shipped.links.map(([a, b]) => [a, b] as const),
  };
}

/** The names of the shipped default herd, in config order. */
export function defaultHerdNames(): string[] {
  return [...defaultHerdGraph().names];
}
