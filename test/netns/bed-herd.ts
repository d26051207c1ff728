/**
 * A herd run in a {@link NetnsBed}: one `herd serve NAME --config FILE` per host namespace (through
 * `ip netns exec`), client ports on the client network, peer ports on the private one through
 * `peerHost`, admin ports on the client network behind an admin token (docs/deploy.md), so that the
 * clients' namespace, holding the token, can read `/status`; and a
 * {@link BedAgent} in the clients' namespace to talk to them. A server can run under a shifted wall
 * clock (libfaketime through `LD_PRELOAD`), be SIGKILLed and restarted on its own address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ServerStatus } from '../../src/core/status.js';
import {
  CLI,
  DEFAULT_LINKS,
  ROOT,
  TEST_HERD_SECRET,
  parseWhatsatReplies,
  waitUntil,
  whatsatLines,
} from '../helpers/herd-process.js';
import type { LogEntry } from '../helpers/capture-log.js';
import { nodeModule } from '../helpers/ts-module.js';
import type { AgentReply, AgentRequest } from './agent.js';
import type { NetnsBed } from './network.js';

/** Every server's client port (each host has its own addresses, so all can use the same ports). */
export const BED_CLIENT_PORT = 12000;
/** Every server's peer port, on its private address. */
export const BED_PEER_PORT = 22000;
/** Every server's admin port, on its client address. */
export const BED_ADMIN_PORT = 12100;
/**
 * The bed's admin token (written to `<dir>/admin-token`; never a real one): its admin ports are on
 * the client network, so they take a token as a production herd's would there.
 */
export const BED_ADMIN_TOKEN = 'test-only-bed-admin-token-0123456789';
/** Longest wait for a server to print that it listens, ms. */
export const SERVER_START_TIMEOUT_MS = 20_000;

/** libfaketime's preload library, where Debian's `faketime` package puts it. */
export function faketimeLibrary(): string | undefined {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const candidates = [
    `/usr/lib/${arch}-linux-gnu/faketime/libfaketime.so.1`,
    '/usr/lib/faketime/libfaketime.so.1',
    '/usr/local/lib/faketime/libfaketime.so.1',
  ];
  return candidates.find((file) => existsSync(file));
}

/** The agent process in the clients' namespace. */
export class BedAgent {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: AgentReply) => void>();

  private constructor(child: ChildProcess) {
    this.child = child;
  }

  /** Starts the agent in the bed's clients' namespace; resolves once it is ready. */
  static async start(bed: NetnsBed): Promise<BedAgent> {
    const program = nodeModule(path.join(ROOT, 'test', 'netns', 'agent.ts'));
    const args = bed.execArgs('clients', [process.execPath, ...program.nodeArgs, program.file]);
    const child = spawn('ip', args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const agent = new BedAgent(child);
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity });
      child.once('exit', (code) => reject(new Error(`the bed agent exited (code ${code})`)));
      lines.on('line', (line) => {
        const message = JSON.parse(line) as AgentReply | { ready: true };
        if ('ready' in message) {
          resolve();
          return;
        }
        agent.waiting.get(message.id)?.(message);
        agent.waiting.delete(message.id);
      });
    });
    return agent;
  }

  private request(
    request: AgentRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never,
  ): Promise<AgentReply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin?.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  /**
   * Sends `data` to `host:port` from the clients' namespace, half-closes, and returns all the reply.
   *
   * @throws when the connection fails or does not close within `timeoutMs`.
   */
  async exchange(host: string, port: number, data: string, timeoutMs?: number): Promise<string> {
    const reply = await this.request({ op: 'exchange', host, port, data, timeoutMs });
    if (!reply.ok) throw new Error(`exchange with ${host}:${port}: ${reply.error}`);
    return reply.text;
  }

  /**
   * GETs `url` from the clients' namespace, with the bed's admin token.
   *
   * @throws on a network error or a non-2xx status.
   */
  async get(url: string, timeoutMs?: number): Promise<string> {
    const reply = await this.request({ op: 'get', url, timeoutMs, authorization: `Bearer ${BED_ADMIN_TOKEN}` });
    if (!reply.ok) throw new Error(`GET ${url}: ${reply.error}`);
    if (reply.status === undefined || reply.status >= 300) throw new Error(`GET ${url}: status ${reply.status}`);
    return reply.text;
  }

  /** Ends the agent. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** A running server of a {@link BedHerd}. */
export interface BedServer {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** The libfaketime offset it runs under (`+30s`), if any. */
  readonly clockOffset: string | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
}

/** What {@link BedHerd.start} writes into the config besides the servers and links. */
export interface BedHerdOptions {
  /** `peer` settings (heartbeatIntervalMs, deadAfterMs, reconnect delays, ...). */
  readonly peer?: Record<string, number | string>;
  readonly store?: Record<string, unknown>;
  readonly limits?: Record<string, number>;
  /** @default the default ring (docs/protocol.md "The herd") */
  readonly links?: readonly (readonly [string, string])[];
  /** Servers started under a shifted wall clock: name -> libfaketime offset such as `+30s`. */
  readonly clockOffsets?: Readonly<Record<string, string>>;
  /** Folder of the config, logs and data (emptied first). @default a fresh temporary folder */
  readonly dir?: string;
}

/** A herd in a bed: start with {@link BedHerd.start}, always {@link stop}. */
export class BedHerd {
  readonly bed: NetnsBed;
  readonly dir: string;
  readonly configFile: string;
  readonly agent: BedAgent;
  readonly servers = new Map<string, BedServer>();
  /** Everything the servers printed, prefixed with their name. */
  readonly output: string[] = [];
  /** Markers sent by {@link logsWritten} so far. */
  private markers = 0;
  /** What {@link logEvents} has read of each server's log: its entries, its bytes, the read under way. */
  private readonly logs = new Map<string, { entries: LogEntry[]; bytes: number; reading: Promise<void> }>();

  private constructor(bed: NetnsBed, dir: string, agent: BedAgent) {
    this.bed = bed;
    this.dir = dir;
    this.configFile = path.join(dir, 'herd.json');
    this.agent = agent;
  }

  /**
   * Writes the config into a fresh temporary folder, starts the agent and one server per host of
   * the bed, and resolves once every server listens.
   */
  static async start(bed: NetnsBed, options: BedHerdOptions = {}): Promise<BedHerd> {
    let dir = options.dir;
    if (dir === undefined) dir = await mkdtemp(path.join(os.tmpdir(), 'herd-bed-'));
    else {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    }
    const secretFile = path.join(dir, 'herd-secret');
    await writeFile(secretFile, `${TEST_HERD_SECRET}\n`, { mode: 0o600 });
    const adminTokenFile = path.join(dir, 'admin-token');
    await writeFile(adminTokenFile, `${BED_ADMIN_TOKEN}\n`, { mode: 0o600 });
    const config = {
      servers: [...bed.hosts.values()].map((host) => ({
        name: host.name,
        host: host.clientAddress,
        port: BED_CLIENT_PORT,
        peerHost: host.peerAddress,
        peerPort: BED_PEER_PORT,
        adminHost: host.clientAddress,
        adminPort: BED_ADMIN_PORT,
      })),
      links: options.links ?? DEFAULT_LINKS,
      secretFile,
      admin: { tokenFile: adminTokenFile },
      logDir: path.join(dir, 'logs'),
      dataDir: path.join(dir, 'data'),
      ...(options.peer === undefined ? {} : { peer: options.peer }),
      ...(options.store === undefined ? {} : { store: options.store }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    };
    await writeFile(path.join(dir, 'herd.json'), `${JSON.stringify(config, null, 2)}\n`);
    let agent: BedAgent | undefined;
    try {
      agent = await BedAgent.start(bed);
      const herd = new BedHerd(bed, dir, agent);
      try {
        await Promise.all([...bed.hosts.keys()].map((name) => herd.startServer(name, options.clockOffsets?.[name])));
      } catch (error) {
        await herd.stop();
        throw error;
      }
      return herd;
    } catch (error) {
      await agent?.stop();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Starts (or restarts) server `name` in its namespace, optionally under a wall clock shifted by
   * `clockOffset` (libfaketime syntax, e.g. `+30s`; the monotonic clock, which timers use, is left
   * alone). Resolves once it listens.
   */
  async startServer(name: string, clockOffset?: string): Promise<BedServer> {
    const command = [process.execPath, CLI, 'serve', name, '--config', this.configFile];
    if (clockOffset !== undefined) {
      const library = faketimeLibrary();
      if (library === undefined) throw new Error('libfaketime not found: apt-get install faketime');
      // env(1) execs node, so the pid is node's and signals reach it (the faketime wrapper forks).
      command.unshift('env', `LD_PRELOAD=${library}`, `FAKETIME=${clockOffset}`, 'FAKETIME_DONT_FAKE_MONOTONIC=1');
    }
    const child = spawn('ip', this.bed.execArgs(name, command), {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HERD_SECRET: undefined,
        HERD_SECRET_FILE: undefined,
        HERD_ADMIN_TOKEN: undefined,
        HERD_ADMIN_TOKEN_FILE: undefined,
      },
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const server: BedServer = { name, pid: child.pid ?? -1, process: child, clockOffset, exited };
    this.servers.set(name, server);
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not listen within ${SERVER_START_TIMEOUT_MS} ms`)),
        SERVER_START_TIMEOUT_MS,
      );
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before listening:\n${this.output.slice(-10).join('\n')}`));
      });
      createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity }).on('line', (line) => {
        this.output.push(`${name}: ${line}`);
        if (/ listening on /.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.output.push(`${name} [stderr]: ${text.trimEnd()}`));
    await listening;
    return server;
  }

  /** Sends `signal` to server `name` and waits until it has exited. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const server = this.servers.get(name);
    if (server === undefined) return;
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill(signal);
    await server.exited;
  }

  /** Server `name`'s log file (JSON lines). */
  logFile(name: string): string {
    return path.join(this.dir, 'logs', `${name}.log`);
  }

  /**
   * Every entry of server `name`'s log so far (written in batches, at least every 100 ms), in order.
   * Reads only what the file gained since the last call, whole lines only, as the scenarios poll
   * these files while the servers fill them.
   */
  logEvents(name: string): Promise<LogEntry[]> {
    const log = this.logs.get(name) ?? { entries: [], bytes: 0, reading: Promise.resolve() };
    this.logs.set(name, log);
    // One read at a time per file, so that no part of it is parsed twice.
    const read = log.reading.then(async () => {
      const handle = await open(this.logFile(name), 'r').catch(() => undefined);
      if (handle === undefined) return;
      try {
        const { size } = await handle.stat();
        if (size < log.bytes) {
          // Another file under the same name: read it from its start.
          log.entries = [];
          log.bytes = 0;
        }
        if (size === log.bytes) return;
        const buffer = Buffer.alloc(size - log.bytes);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, log.bytes);
        const whole = buffer.subarray(0, buffer.subarray(0, bytesRead).lastIndexOf(0x0a) + 1);
        for (const line of whole.toString('utf8').split('\n')) {
          if (line.startsWith('{')) log.entries.push(JSON.parse(line) as LogEntry);
        }
        log.bytes += whole.length;
      } finally {
        await handle.close();
      }
    });
    log.reading = read.catch(() => undefined);
    return read.then(() => [...log.entries]);
  }

  /**
   * Resolves once server `name`'s log file holds every line the server logged before this call: it
   * sends a WHATSAT for a client id that no server knows (answered `?`, changing nothing) and waits
   * for its log line, which the log writes after everything logged before it.
   */
  async logsWritten(name: string): Promise<void> {
    const marker = `logs-written-${process.pid}-${this.markers++}`;
    await this.client(name, `WHATSAT ${marker} 1 1\n`);
    await waitUntil(
      async () =>
        (await this.logEvents(name)).some((entry) => entry.event === 'command' && String(entry.line).includes(marker)),
      10_000,
      `${name}'s log to hold the line of ${marker}`,
    );
  }

  /** Sends client lines to server `name`'s client port and returns the reply text. */
  client(name: string, lines: string): Promise<string> {
    return this.agent.exchange(this.bed.host(name).clientAddress, BED_CLIENT_PORT, lines);
  }

  /** What server `name` holds for each client id (absent: it answered `?`), by WHATSAT. */
  async table(name: string, clientIds: readonly string[]): Promise<Map<string, string>> {
    const reply = await this.agent.exchange(
      this.bed.host(name).clientAddress,
      BED_CLIENT_PORT,
      whatsatLines(clientIds),
      30_000,
    );
    return parseWhatsatReplies(reply, clientIds);
  }

  /** Server `name`'s `/status`. */
  async status(name: string): Promise<ServerStatus> {
    const host = this.bed.host(name);
    return JSON.parse(
      await this.agent.get(`http://${host.clientAddress}:${BED_ADMIN_PORT}/status`, 3000),
    ) as ServerStatus;
  }

  /** Server `name`'s `/metrics` text. */
  metrics(name: string): Promise<string> {
    const host = this.bed.host(name);
    return this.agent.get(`http://${host.clientAddress}:${BED_ADMIN_PORT}/metrics`, 3000);
  }

  /** Stops every server (SIGTERM, SIGKILL after 10 s) and the agent, and removes the folder. */
  async stop(keepDir = false): Promise<void> {
    await Promise.all(
      [...this.servers.values()].map(async (server) => {
        if (server.process.exitCode !== null || server.process.signalCode !== null) return;
        const timer = setTimeout(() => server.process.kill('SIGKILL'), 10_000);
        server.process.kill('SIGTERM');
        await server.exited;
        clearTimeout(timer);
      }),
    );
    await this.agent.stop();
    if (!keepDir) await rm(this.dir, { recursive: true, force: true });
  }
}
