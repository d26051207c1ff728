/**
 * The processes a bench run starts and reads: `herd serve`, `herd start`, the echo server; their
 * memory (`/proc/<pid>/status`, and the heap through {@link MEMORY_PROBE}); and kernel socket byte
 * counts (`ss`). Everything listens on 127.0.0.1, port 0, and every process is stopped by its handle.
 */
import { HERD_UP_LINE, MEMBER_LINE } from '../src/cli/start.js';
import { createInterface } from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
/**
 * Whether the bench runs compiled: its smoke test under `npm test` runs `.test-build/bench/main.js`
 * (build/test-build.mjs), each `X.ts` there with its compiled `X.js` beside it.
 */
const RUNNING_COMPILED = import.meta.url.endsWith('.js');
/** The echo server of the floor scenario, run as the bench itself is: through tsx, or compiled. */
export const ECHO_SERVER = path.join(PACKAGE_ROOT, 'bench', RUNNING_COMPILED ? 'echo-server.js' : 'echo-server.ts');
/** What `node` needs before {@link ECHO_SERVER}: tsx, unless it is the compiled twin. */
const ECHO_NODE_ARGS: readonly string[] = RUNNING_COMPILED ? [] : ['--import', 'tsx'];
/** The preload that reports a server's heap on SIGUSR2 (see memory-probe.mjs). */
export const MEMORY_PROBE = path.join(PACKAGE_ROOT, 'bench', 'memory-probe.mjs');
/** Environment variable naming the folder where {@link MEMORY_PROBE} writes `<pid>.json`. */
export const PROBE_DIR_ENV = 'HERD_BENCH_PROBE_DIR';
/** Milliseconds the memory probe waits after its collections before it reads (bench/memory-probe.mjs). */
export const PROBE_SETTLE_ENV = 'HERD_BENCH_PROBE_SETTLE_MS';

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
 * and resolves once it prints that it listens. `options.cli` is the build to run. @default {@link CLI}
 */
export async function startServe(
  configFile: string,
  name: string,
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv; cli?: string } = {},
): Promise<ServeHandle> {
  const spawnedAtMs = performance.now();
  const child = new BenchProcess(
    process.execPath,
    [...(options.nodeArgs ?? []), options.cli ?? CLI, 'serve', name, '--config', configFile],
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
  const child = new BenchProcess(process.execPath, [...(options.nodeArgs ?? []), ...ECHO_NODE_ARGS, ECHO_SERVER], {
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

export * from './process-probes.js';
export { freeLoopbackPort, restartablePort } from '../test/helpers/loopback.js';
export * from './bench-config.js';
