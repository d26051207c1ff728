/**
 * One real `herd serve Solo` process on 127.0.0.1 port 0, with the config sections a test gives and
 * the descriptor limit it asks for: what the process-level tests of limits and machine faults share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLI, waitUntil } from './herd-process.js';

/** A running `herd serve Solo`. */
export interface Solo {
  readonly child: ChildProcess;
  /** The client port. */
  readonly port: number;
  /** `http://127.0.0.1:<port>` of the admin port, when one was asked for. */
  readonly adminUrl: string | undefined;
  /** Folder of the config, `logs/` and (unless moved) `data/`. */
  readonly dir: string;
  /** Its log file. */
  readonly logFile: string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Everything it printed so far. */
  output(): string;
}

/** What {@link serveSolo} puts in the config, and how it starts the process. */
export interface SoloOptions {
  readonly limits?: Record<string, number>;
  readonly store?: Record<string, unknown>;
  /** Config `logLevel` (./herd-config-options.ts `QUIET_LOG`). @default the product's, 'info' */
  readonly logLevel?: string;
  /** Where the store lives. @default `<dir>/data` */
  readonly dataDir?: string;
  /** Serve an admin port (on port 0). @default false */
  readonly admin?: boolean;
  /** The soft limit on open files (`ulimit -n`). @default the hard limit */
  readonly descriptorLimit?: number;
  /** Folder of an earlier run to reuse (a restart). @default a new temporary folder */
  readonly dir?: string;
}

/** Starts `herd serve Solo`; resolves once it listens (and, with an admin port, serves it). */
export async function serveSolo(options: SoloOptions = {}): Promise<Solo> {
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'herd-proc-')));
  const configFile = path.join(dir, 'herd.json');
  await writeFile(
    configFile,
    JSON.stringify({
      servers: [{ name: 'Solo', host: '127.0.0.1', port: 0, ...(options.admin === true ? { adminPort: 0 } : {}) }],
      logDir: path.join(dir, 'logs'),
      dataDir: options.dataDir ?? path.join(dir, 'data'),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.store === undefined ? {} : { store: options.store }),
      ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
    }),
  );
  const limit = options.descriptorLimit === undefined ? '"$(ulimit -Hn)"' : String(options.descriptorLimit);
  const command = `ulimit -n ${limit} 2>/dev/null; exec "${process.execPath}" "${CLI}" serve Solo --config "${configFile}"`;
  const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const match = await waitUntil(
    () => /listening on 127\.0\.0\.1:(\d+),.*Ctrl-C stops it/.exec(out),
    15_000,
    `herd serve to listen (output: ${out})`,
  ).catch(async (error: unknown) => {
    // The caller never gets the process to stop: a server that listens late must not outlive the test.
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  return {
    child,
    port: Number(match[1]),
    adminUrl: /; admin (http:\S+?),/.exec(match[0])?.[1],
    dir,
    logFile: path.join(dir, 'logs', 'Solo.log'),
    exited,
    output: () => out,
  };
}

/** Kills it (SIGKILL) if it still runs, and waits for it to exit. */
export async function stopSolo(solo: Solo): Promise<void> {
  if (solo.child.exitCode === null && solo.child.signalCode === null) {
    solo.child.kill('SIGKILL');
    await solo.exited;
  }
}
