/**
 * The processes a bench run starts and reads: `herd serve`, `herd start`, the echo server; their
 * memory (`/proc/<pid>/status`, and the heap through {@link MEMORY_PROBE}); and kernel socket byte
 * counts (`ss`). Everything listens on 127.0.0.1, port 0, and every process is stopped by its handle.
 */
import { HERD_UP_LINE, MEMBER_LINE } from '../src/cli/start.js';
import { createInterface } from 'node:readline';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtInHerdFile, loadHerdConfig, type HerdConfig } from '../src/config/herd-config.js';
import { HERD_SECRET_ENV } from '../src/peers/herd-secret.js';
import { BenchError } from './bench-error.js';
import type { LoadTarget } from './load-client.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The package root (this file is `bench/`). */
export const PACKAGE_ROOT = path.resolve(HERE, '..');
/** Environment variable naming another build's CLI to measure (e.g. an earlier commit's, for a before/after). */
export const CLI_ENV = 'HERD_BENCH_CLI';
/** The built CLI every server process runs: this checkout's `dist/bundle/main.js`, or {@link CLI_ENV}. */
export const CLI = process.env[CLI_ENV] ?? path.join(PACKAGE_ROOT, 'dist', 'bundle', 'main.js');
/** The echo server of the floor scenario (run through tsx, like the bench itself). */
export const ECHO_SERVER = path.join(PACKAGE_ROOT, 'bench', 'echo-server.ts');
/** The preload that reports a server's heap on SIGUSR2 (see memory-probe.mjs). */
export const MEMORY_PROBE = path.join(PACKAGE_ROOT, 'bench', 'memory-probe.mjs');
/** Environment variable naming the folder where {@link MEMORY_PROBE} writes `<pid>.json`. */
export const PROBE_DIR_ENV = 'HERD_BENCH_PROBE_DIR';

/**
 * The herd secret of every herd the bench starts: random per run, given to the servers as
 * `HERD_SECRET`, so links are authenticated as in production (and the observer must authenticate).
 */
export const BENCH_SECRET = randomBytes(24).toString('hex');

/** The environment of the processes the bench starts: this one's, with {@link BENCH_SECRET}, and `extra`. */
export function benchEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, [HERD_SECRET_ENV]: BENCH_SECRET, ...extra };
}

/** Longest wait for a process to print that it listens, ms. */
export const PROCESS_START_TIMEOUT_MS = 30_000;

/** Every child process and temporary folder of this bench run still alive, for {@link abandonBench}. */
const live = { processes: new Set<BenchProcess>(), dirs: new Set<string>() };

/**
 * Stops every child process the bench started (SIGTERM, so a `herd start` stops its servers) and
 * removes every temporary folder it made: what an interrupted bench (Ctrl-C, SIGTERM) must not leave
 * behind. Resolves when done.
 */
export async function abandonBench(): Promise<void> {
  await Promise.all([...live.processes].map((child) => child.stop(5000)));
  await Promise.all([...live.dirs].map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A child process whose stdout is read line by line. */
export class BenchProcess {
  readonly child: ChildProcess;
  readonly output: string[] = [];
  private readonly waiters: { pattern: RegExp; resolve: (match: RegExpExecArray) => void }[] = [];
  private readonly exited: Promise<void>;

  /**
   * @param options.stdin - give the process a standard input ({@link child}`.stdin`) instead of none.
   */
  constructor(
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; ipc?: boolean; stdin?: boolean } = {},
  ) {
    const stdin = options.stdin === true ? 'pipe' : 'ignore';
    this.child = spawn(command, args, {
      stdio: options.ipc === true ? [stdin, 'pipe', 'pipe', 'ipc'] : [stdin, 'pipe', 'pipe'],
      env: options.env ?? benchEnv(),
    });
    live.processes.add(this);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        live.processes.delete(this);
        resolve();
      }),
    );
    if (this.child.stdout !== null)
      createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (text: string) => this.output.push(`[stderr] ${text.trimEnd()}`));
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  private onLine(line: string): void {
    this.output.push(line);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i] as (typeof this.waiters)[number];
      const match = waiter.pattern.exec(line);
      if (match !== null) {
        this.waiters.splice(i, 1);
        waiter.resolve(match);
      }
    }
  }

  /**
   * Resolves with the first line from now on that matches `pattern`.
   *
   * @throws {BenchError} on timeout, or when the process exits first (with its output).
   */
  waitForLine(pattern: RegExp, timeoutMs = PROCESS_START_TIMEOUT_MS): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        const index = this.waiters.findIndex((w) => w.pattern === pattern);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(new BenchError(`${why} waiting for ${pattern}; output:\n${this.output.slice(-20).join('\n')}`));
      };
      const timer = setTimeout(() => fail(`no line within ${timeoutMs} ms`), timeoutMs);
      const onExit = (): void => {
        clearTimeout(timer);
        fail(`process ${this.pid} exited`);
      };
      this.child.once('exit', onExit);
      this.waiters.push({
        pattern,
        resolve: (match) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolve(match);
        },
      });
    });
  }

  /** Sends SIGTERM, waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }

  /** Resolves when the process has exited. */
  whenExited(): Promise<void> {
    return this.exited;
  }
}

/** Node flags for server processes whose heap the memory scenario reads. */
export function memoryProbeNodeArgs(): string[] {
  return ['--expose-gc', '--import', pathToFileURL(MEMORY_PROBE).href];
}

/** One `herd serve NAME` process. */
export interface ServeHandle extends LoadTarget {
  readonly process: BenchProcess;
  readonly pid: number;
  readonly name: string;
  /** Its peer port. */
  readonly peer: LoadTarget;
  /** `performance.now()` just before the spawn. */
  readonly spawnedAtMs: number;
}

/**
 * Runs `herd serve NAME --config FILE` (not supervised: it reads its port from the config, 0 here)
 * and resolves once it prints that it listens.
 */
export async function startServe(
  configFile: string,
  name: string,
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<ServeHandle> {
  const spawnedAtMs = performance.now();
  const child = new BenchProcess(
    process.execPath,
    [...(options.nodeArgs ?? []), CLI, 'serve', name, '--config', configFile],
    { env: options.env },
  );
  try {
    const match = await child.waitForLine(/^(\S+) listening on (\S+):(\d+), peer port (\S+):(\d+)/);
    return {
      process: child,
      pid: child.pid,
      name,
      host: match[2] as string,
      port: Number(match[3]),
      peer: { host: match[4] as string, port: Number(match[5]) },
      spawnedAtMs,
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** A member of a herd started by {@link startHerdProcess}. */
export interface HerdMember extends LoadTarget {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Its peer port. */
  readonly peerPort: number;
  /** `http://host:port` of its admin server, when it has one. */
  readonly adminUrl?: string;
}

/** A herd run by `herd start`. */
export interface HerdHandle {
  readonly process: BenchProcess;
  readonly members: HerdMember[];
  /** `performance.now()` just before the spawn. */
  readonly spawnedAtMs: number;
  /** `performance.now()` when the supervisor printed `servers up`. */
  readonly upAtMs: number;
}

/** A member of a `herd start` run, from its line (src/cli/start.ts `MEMBER_LINE`), or undefined for another line. */
function memberOf(line: string): HerdMember | undefined {
  const groups = MEMBER_LINE.exec(line)?.groups;
  if (groups === undefined) return undefined;
  return {
    name: groups.name as string,
    host: groups.host as string,
    port: Number(groups.port),
    pid: Number(groups.pid),
    logFile: groups.logFile as string,
    peerPort: Number(groups.peerPort),
    ...(groups.adminUrl === undefined ? {} : { adminUrl: groups.adminUrl }),
  };
}

/** Runs `herd start --config FILE ...args` and resolves once it prints `servers up`. */
export async function startHerdProcess(
  configFile: string,
  options: { nodeArgs?: readonly string[]; args?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<HerdHandle> {
  const spawnedAtMs = performance.now();
  const child = new BenchProcess(
    process.execPath,
    [...(options.nodeArgs ?? []), CLI, 'start', '--config', configFile, ...(options.args ?? [])],
    {
      env: options.env,
    },
  );
  try {
    await child.waitForLine(HERD_UP_LINE);
  } catch (error) {
    await child.stop();
    throw error;
  }
  const upAtMs = performance.now();
  const members = new Map<string, HerdMember>();
  for (const line of child.output) {
    const member = memberOf(line);
    if (member !== undefined) members.set(member.name, member);
  }
  return { process: child, members: [...members.values()], spawnedAtMs, upAtMs };
}

/** Re-reads a member's line after a restart (`herd start` prints it again). */
export function latestMember(herd: HerdHandle, name: string): HerdMember | undefined {
  let found: HerdMember | undefined;
  for (const line of herd.process.output) {
    const member = memberOf(line);
    if (member?.name === name) found = member;
  }
  return found;
}

/** SIGKILLs `pid` if it is still there (a last resort after a supervisor failed to stop it). */
export function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 0);
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Stops a herd: SIGTERM to the supervisor (which stops its servers), then SIGKILL to any straggler. */
export async function stopHerd(herd: HerdHandle): Promise<void> {
  await herd.process.stop();
  for (const member of herd.members) killIfAlive(member.pid);
}

/** Runs the echo server of the floor scenario. */
export async function startEchoProcess(
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ process: BenchProcess; pid: number; target: LoadTarget }> {
  const child = new BenchProcess(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', ECHO_SERVER], {
    env: options.env,
  });
  try {
    const match = await child.waitForLine(/^listening (\d+)/);
    return { process: child, pid: child.pid, target: { host: '127.0.0.1', port: Number(match[1]) } };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** Resolves once a TCP connection to `target` is accepted; rejects on failure. */
export function connectOnce(target: LoadTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

/** A process's resident set size from `/proc/<pid>/status` (VmRSS), bytes; undefined if unreadable. */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * `process.memoryUsage()` of a server, after two full garbage collections (unless the probe was
 * told not to collect), and its `process.cpuUsage()` just before, as the probe wrote them.
 */
export interface ProbedMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** User CPU time of the whole process since it started, microseconds. */
  readonly cpuUserUs: number;
  /** System CPU time of the whole process since it started, microseconds. */
  readonly cpuSystemUs: number;
}

/**
 * Asks a server started with {@link memoryProbeNodeArgs} (and {@link PROBE_DIR_ENV} = `probeDir`) for
 * its memory: sends SIGUSR2 and waits for `<probeDir>/<pid>.json`.
 *
 * @throws {BenchError} when no answer comes within `timeoutMs`.
 */
export async function probeMemory(pid: number, probeDir: string, timeoutMs = 20_000): Promise<ProbedMemory> {
  const file = path.join(probeDir, `${pid}.json`);
  await rm(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const text = await readFile(file, 'utf8');
      if (text.endsWith('\n')) return JSON.parse(text) as ProbedMemory;
    } catch {
      // Not written yet.
    }
    if (Date.now() > deadline)
      throw new BenchError(
        `server ${pid} did not report its memory within ${timeoutMs} ms (started without the memory probe?)`,
      );
    await sleep(50);
  }
}

/** Bytes a process's TCP sockets sent and received (kernel counters, `ss -tinp`), per local/remote port. */
export interface SocketBytes {
  readonly localPort: number;
  readonly remotePort: number;
  readonly sent: number;
  readonly received: number;
  /** TCP segments sent and received (`segs_out`, `segs_in`), ACKs included. */
  readonly segmentsOut: number;
  readonly segmentsIn: number;
}

/**
 * The established TCP sockets of `pid` with their byte counts, from `ss -tinpH` (iproute2). The
 * counts are the kernel's, for the life of each socket.
 *
 * @returns an empty list when `ss` is missing or fails.
 */
export function socketBytesOf(pid: number): Promise<SocketBytes[]> {
  return new Promise((resolve) => {
    execFile('ss', ['-tinpH', 'state', 'established'], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error !== null) {
        resolve([]);
        return;
      }
      const out: SocketBytes[] = [];
      const lines = stdout.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const head = lines[i] as string;
        if (!head.includes(`pid=${pid},`)) continue;
        // `Recv-Q Send-Q Local:Port Peer:Port users:(...)`, then a line of TCP info.
        const fields = head.trim().split(/\s+/);
        const local = fields[2] ?? '';
        const remote = fields[3] ?? '';
        const info = lines[i + 1] ?? '';
        const sent = /bytes_sent:(\d+)/.exec(info) ?? /bytes_acked:(\d+)/.exec(info);
        const received = /bytes_received:(\d+)/.exec(info);
        const segmentsOut = /segs_out:(\d+)/.exec(info);
        const segmentsIn = /segs_in:(\d+)/.exec(info);
        out.push({
          localPort: Number(local.slice(local.lastIndexOf(':') + 1)),
          remotePort: Number(remote.slice(remote.lastIndexOf(':') + 1)),
          sent: sent === null ? 0 : Number(sent[1]),
          received: received === null ? 0 : Number(received[1]),
          segmentsOut: segmentsOut === null ? 0 : Number(segmentsOut[1]),
          segmentsIn: segmentsIn === null ? 0 : Number(segmentsIn[1]),
        });
      }
      resolve(out);
    });
  });
}

/**
 * The pid of the local process listening on TCP `port` (for `--config` runs, whose servers the bench
 * did not start), from `ss -ltnpH`; undefined when not found (another user's process, or not local).
 */
export function pidListeningOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('ss', ['-ltnpH', `sport = :${port}`], (error, stdout) => {
      const match = error === null ? /pid=(\d+)/.exec(stdout) : null;
      resolve(match === null ? undefined : Number(match[1]));
    });
  });
}

/**
 * Resolves once every server has its places index loaded (a server indexes places right after it
 * starts listening, which keeps it busy for a moment): checks in a client and asks a WHATSAT, which
 * waits for the index, on each server in turn.
 *
 * @throws {BenchError} when a server does not answer the WHATSAT with a Nearby Search document.
 */
export async function whenPlacesReady(servers: readonly LoadTarget[]): Promise<void> {
  const seconds = Math.floor(Date.now() / 1000) - 60;
  for (const [i, server] of servers.entries()) {
    const clientId = `bench-warm-${i}-${Date.now()}`;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: server.host, port: server.port, allowHalfOpen: true });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('connect', () =>
        socket.end(`IAMAT ${clientId} +34.068930-118.445127 ${seconds}.0\nWHATSAT ${clientId} 10 1\n`),
      );
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', (error) =>
        reject(new BenchError(`warm-up of ${server.host}:${server.port} failed: ${error.message}`, { cause: error })),
      );
      socket.on('close', () =>
        text.includes('"results"')
          ? resolve()
          : reject(
              new BenchError(`warm-up of ${server.host}:${server.port}: no Nearby Search reply: ${text.slice(0, 300)}`),
            ),
      );
    });
  }
}

/** A port number free on loopback right now (for a config that must name its port before the server starts). */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A fresh temporary folder for one scenario's config, logs and data; `cleanup` removes it. */
export async function benchDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-bench-'));
  live.dirs.add(dir);
  return {
    dir,
    cleanup: async () => {
      await rm(dir, { recursive: true, force: true });
      live.dirs.delete(dir);
    },
  };
}

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
      options.fixedPorts === true
        ? { port: await freeLoopbackPort(), peerPort: await freeLoopbackPort() }
        : { port: 0 };
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

/** The names of the shipped default herd, in config order. */
export function defaultHerdNames(): string[] {
  return loadHerdConfig(builtInHerdFile('default')).servers.map((server) => server.name);
}
