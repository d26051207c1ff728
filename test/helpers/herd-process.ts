/**
 * Test helpers: herds started through the real CLI (`dist/bundle/main.js start`) on 127.0.0.1, at
 * ports from {@link restartablePort}. Every process and socket they open is closed by `stop()` / on return.
 */
import { HERD_UP_LINE, MEMBER_LINE } from '../../src/cli/start.js';
import { createInterface } from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { restartablePort } from './loopback.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'bundle', 'main.js');

/** One server of herds/default.json (the fields the tests read). */
export interface DefaultServer {
  readonly name: string;
  /** ISO 6709, where the server stands on the map. */
  readonly location: string;
}

/** The default herd as the project ships it (herds/default.json; docs/protocol.md "The herd"). */
export const DEFAULT_HERD = JSON.parse(readFileSync(path.join(ROOT, 'herds', 'default.json'), 'utf8')) as {
  readonly servers: readonly DefaultServer[];
  readonly links: readonly [string, string][];
};
/** The names of the default herd's servers. */
export const DEFAULT_SERVERS: readonly string[] = DEFAULT_HERD.servers.map((server) => server.name);
/** The links of the default ring. */
export const DEFAULT_LINKS: [string, string][] = DEFAULT_HERD.links.map(([a, b]) => [a, b]);

export interface ServerInfo {
  name: string;
  host: string;
  /** The client port. */
  port: number;
  /** The peer port. */
  peerPort: number;
  pid: number;
  logFile: string;
  /** `http://host:port` of the admin server, when the server has one (config `adminPort`). */
  adminUrl?: string;
}

/** Whether process `pid` still exists (signal 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether process `pid` has ended: it is gone, or it is a zombie that its parent has not reaped yet
 * (state `Z` in `/proc/<pid>/stat`), as the children of a frozen supervisor stay.
 */
export function processEnded(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // pid (comm) state ...: comm may hold spaces and parentheses, so the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

/** Resolves when `predicate` returns a truthy value; rejects after `timeoutMs`. */
export async function waitUntil<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// Talking to a server over TCP lives in ./server-exchange.ts; re-exported for the tests that import it from here.
export { atLineAt, exchange, parseWhatsatReplies, readTable, whatsatLines } from './server-exchange.js';

/** Fault schedules are reproducible by seed. */
export { seededRandom } from './seeded-random.js';

/** The herd secret of test herds (written to `<dir>/herd-secret`); never a real one. */
export const TEST_HERD_SECRET = 'test-only herd secret, 32 bytes+';

/**
 * Writes a herd config into a fresh temporary folder, every server on 127.0.0.1 with a client port
 * and a peer port from {@link restartablePort} (and, with `admin: true`, an admin port too), so that
 * a server the supervisor restarts finds its ports free.
 */
export async function tempHerdConfig(
  options: {
    servers?: readonly string[];
    links?: [string, string][];
    extra?: Record<string, unknown>;
    admin?: boolean;
  } = {},
): Promise<{ dir: string; configFile: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-test-'));
  const configFile = path.join(dir, 'herd.json');
  // Every CLI test herd authenticates its links, as a production herd would.
  const secretFile = path.join(dir, 'herd-secret');
  await writeFile(secretFile, `${TEST_HERD_SECRET}\n`, { mode: 0o600 });
  const config = {
    servers: await Promise.all(
      (options.servers ?? DEFAULT_SERVERS).map(async (name) => ({
        name,
        host: '127.0.0.1',
        port: await restartablePort(),
        peerPort: await restartablePort(),
        ...(options.admin === true ? { adminPort: await restartablePort() } : {}),
      })),
    ),
    links: options.links ?? DEFAULT_LINKS,
    logDir: path.join(dir, 'logs'),
    dataDir: path.join(dir, 'data'),
    secretFile,
    peer: { reconnectBaseDelayMs: 50, reconnectMaxDelayMs: 500 },
    ...options.extra,
  };
  await writeFile(configFile, JSON.stringify(config, null, 2));
  return { dir, configFile, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A herd run by `herd start` in a child process. */
export class RunningHerd {
  readonly servers = new Map<string, ServerInfo>();
  readonly output: string[] = [];
  private readonly child: ChildProcess;
  private readonly waiters: { pattern: RegExp; from: number; resolve: (match: RegExpMatchArray) => void }[] = [];
  /** Resolves when the supervisor has exited. */
  readonly exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.child = child;
    if (child.stdout !== null)
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.output.push(`[stderr] ${text}`));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  private onLine(line: string): void {
    this.output.push(line);
    const member = MEMBER_LINE.exec(line)?.groups;
    if (member !== undefined) {
      const { name, host, port, peerPort, pid, logFile, adminUrl } = member as {
        [group in 'name' | 'host' | 'port' | 'peerPort' | 'pid' | 'logFile']: string;
      } & { adminUrl?: string };
      this.servers.set(name, {
        name,
        host,
        port: Number(port),
        peerPort: Number(peerPort),
        pid: Number(pid),
        logFile,
        adminUrl,
      });
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      if (waiter === undefined) continue;
      const match = waiter.pattern.exec(line);
      if (match !== null && this.output.length - 1 >= waiter.from) {
        this.waiters.splice(i, 1);
        waiter.resolve(match);
      }
    }
  }

  /**
   * Starts `herd start --config FILE ...args` and resolves once every server is up; when they are not
   * up within `startTimeoutMs`, stops the supervisor and every server it started ({@link stop}) and
   * rejects with its output.
   *
   * @param env - the environment of the supervisor (and so of every server). @default process.env
   * @param descriptorLimit - the soft limit on open files (`ulimit -n`) of the supervisor and so of
   *   every server. @default this process's
   * @param startTimeoutMs - how long to wait for the herd's "up" line. @default 20_000
   */
  static async start(
    configFile: string,
    args: string[] = [],
    env?: NodeJS.ProcessEnv,
    descriptorLimit?: number,
    startTimeoutMs = 20_000,
  ): Promise<RunningHerd> {
    const herd = RunningHerd.launch(configFile, args, env, descriptorLimit);
    await herd.untilUp(startTimeoutMs);
    return herd;
  }

  /**
   * Starts `herd start --config FILE ...args` and returns at once, before any server is up (see
   * {@link start} for the parameters); {@link untilUp} then waits for them.
   */
  static launch(
    configFile: string,
    args: string[] = [],
    env?: NodeJS.ProcessEnv,
    descriptorLimit?: number,
  ): RunningHerd {
    const argv = [CLI, 'start', '--config', configFile, ...args];
    const options = { stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], env: env ?? process.env };
    const child =
      descriptorLimit === undefined
        ? spawn(process.execPath, argv, options)
        : spawn('sh', ['-c', `ulimit -n ${descriptorLimit} && exec "$0" "$@"`, process.execPath, ...argv], options);
    return new RunningHerd(child);
  }

  /**
   * Resolves once the herd's "up" line is printed; when it is not within `timeoutMs`, stops the
   * supervisor and every server it started ({@link stop}) and rejects with its output.
   */
  async untilUp(timeoutMs: number): Promise<void> {
    try {
      await this.waitForLine(HERD_UP_LINE, timeoutMs);
    } catch (error) {
      await this.stop();
      throw new Error(`herd did not start: ${(error as Error).message}\n${this.output.join('\n')}`, { cause: error });
    }
  }

  /** Resolves with the first line from now on matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no line matching ${pattern} within ${timeoutMs} ms; the last lines:\n${this.output.slice(-15).join('\n')}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pattern,
        from: this.output.length,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      });
    });
  }

  /** The supervisor's process id. */
  get supervisorPid(): number {
    return this.child.pid ?? -1;
  }

  /** The port of a server. */
  port(name: string): number {
    const info = this.servers.get(name);
    if (info === undefined) throw new Error(`no server ${name}`);
    return info.port;
  }

  /** Sends `signal` to the supervisor. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /**
   * Freezes the supervisor (SIGSTOP): until {@link thaw} it restarts no server and prints nothing, so
   * a server stopped meanwhile stays down for as long as a check needs, however slow the machine.
   * The servers themselves run on.
   */
  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  /** Lets a frozen supervisor run again (SIGCONT): it reaps what exited and restarts it after its delay. */
  thaw(): void {
    this.child.kill('SIGCONT');
  }

  /**
   * Stops the servers `names` while the supervisor is frozen ({@link freeze}), waits until each has
   * ended, and runs `body` with them down, however long it takes; then thaws the supervisor and
   * resolves, with what `body` returned, once it has printed each one's `exited` and `is back` lines.
   *
   * @param stop - stops one server. @default {@link kill} (SIGKILL)
   * @param timeoutMs - the longest wait for the ends, and then for the lines. @default 15_000
   */
  async whileDown<T>(
    names: readonly string[],
    body: () => Promise<T>,
    stop: (name: string) => void | Promise<void> = (name) => this.kill(name),
    timeoutMs = 15_000,
  ): Promise<T> {
    const pids = names.map((name) => this.servers.get(name)?.pid ?? -1);
    let result: T;
    this.freeze();
    try {
      for (const name of names) await stop(name);
      await Promise.all(
        pids.map((pid, i) => waitUntil(() => processEnded(pid), timeoutMs, `${names[i]} (pid ${pid}) to exit`)),
      );
      result = await body();
    } finally {
      this.thaw();
    }
    // Registered before the thawed supervisor can print anything (no await between), so no line is missed.
    await Promise.all(
      names.flatMap((name) => [
        this.waitForLine(new RegExp(`^herd: ${name} exited`), timeoutMs),
        this.waitForLine(new RegExp(`^herd: ${name} is back`), timeoutMs),
      ]),
    );
    return result;
  }

  /** Kills one server with SIGKILL (the supervisor notices and restarts it after its delay). */
  kill(name: string): void {
    const info = this.servers.get(name);
    if (info === undefined) throw new Error(`no server ${name}`);
    process.kill(info.pid, 'SIGKILL');
  }

  /** Power cut: SIGKILLs the supervisor and every server at once; resolves when the supervisor is gone. */
  async killAll(): Promise<void> {
    this.child.kill('SIGKILL');
    for (const info of this.servers.values()) {
      try {
        process.kill(info.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await this.exited;
  }

  /**
   * Stops the supervisor with SIGTERM (it stops every server) and waits for it to exit; then
   * SIGKILLs every server still running, those it named and those it had started without naming
   * them yet (a supervisor that has not printed its "up" line dies of SIGTERM and leaves them).
   */
  async stop(): Promise<void> {
    const started: number[] = [];
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      // Frozen, it starts no server while its children are listed; SIGTERM waits for the thaw.
      this.freeze();
      started.push(...childProcesses(this.supervisorPid));
      this.child.kill('SIGTERM');
      this.thaw();
      await this.exited;
      clearTimeout(timer);
    }
    // Make sure no server outlives the test, whatever happened to the supervisor.
    for (const pid of new Set([...[...this.servers.values()].map((info) => info.pid), ...started])) {
      try {
        process.kill(pid, 0);
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** The ids of the live processes whose parent is `parentPid` (from `/proc/<pid>/stat`). */
export function childProcesses(parentPid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Gone meanwhile.
    }
    // pid (comm) state ppid ...: the fields after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parentPid) children.push(Number(entry));
  }
  return children;
}
