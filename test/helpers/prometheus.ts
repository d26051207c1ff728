/**
 * A real Prometheus for the tests of the alert rules and the scrape config (deploy/prometheus/):
 * Debian's `prometheus` package (`/usr/bin/prometheus` and `/usr/bin/promtool`; never a downloaded
 * one), run on loopback with its data in a temporary folder.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { restartablePort } from './loopback.js';
import { ROOT, waitUntil } from './herd-process.js';

/** The shipped Prometheus files. */
export const PROMETHEUS_DIR = path.join(ROOT, 'deploy', 'prometheus');
/** Where the binaries are: `HERD_PROMETHEUS_BIN` (a folder), or Debian's `prometheus` package. */
export const PROMETHEUS_BIN = process.env.HERD_PROMETHEUS_BIN ?? '/usr/bin';
export const PROMETHEUS = path.join(PROMETHEUS_BIN, 'prometheus');
export const PROMTOOL = path.join(PROMETHEUS_BIN, 'promtool');
/** Set (to anything but empty or 0) to make a missing Prometheus a failure rather than a skip (CI sets it). */
export const REQUIRE_PROMETHEUS_ENV = 'HERD_REQUIRE_PROMETHEUS';

/** Why Prometheus cannot run here, or undefined when it can. */
export function prometheusMissing(): string | undefined {
  for (const binary of [PROMETHEUS, PROMTOOL])
    if (!existsSync(binary)) return `${binary} not found (apt-get install -y prometheus, or set HERD_PROMETHEUS_BIN)`;
  return undefined;
}

/** Whether {@link REQUIRE_PROMETHEUS_ENV} asks for the Prometheus tests to run whatever happens. */
export function prometheusRequired(): boolean {
  const value = process.env[REQUIRE_PROMETHEUS_ENV];
  return value !== undefined && value !== '' && value !== '0';
}

/** Runs `promtool ...args`; resolves with its exit code and output (stdout and stderr together). */
export function promtool(args: readonly string[], cwd = PROMETHEUS_DIR): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(PROMTOOL, args, { cwd }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** A running Prometheus. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** What it wrote to stderr (its log). */
  readonly log: string[];
  /** GET `<url>/api/v1/<path>` and its `data`. @throws when the answer is not `status: success`. */
  api<T>(pathAndQuery: string): Promise<T>;
  /** SIGTERM, wait for the exit, remove its data. */
  stop(): Promise<void>;
}

/** Starts Prometheus on `configFile`, listening on loopback; resolves once it is ready. */
export async function startPrometheus(configFile: string): Promise<RunningPrometheus> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'herd-prometheus-'));
  // Prometheus takes no port 0 for its own address (it would not say which port it got): a free port
  // below the kernel's ephemeral range, reserved for this process, so that no connection of another
  // test takes it between its check and Prometheus's bind ("bind: address already in use").
  const port = await restartablePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const log: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (text: string) => log.push(text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const answer = (await (await fetch(`${url}/api/v1/${pathAndQuery}`)).json()) as { status: string; data: T };
    if (answer.status !== 'success') throw new Error(`${pathAndQuery}: ${JSON.stringify(answer)}`);
    return answer.data;
  };
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${log.join('')}`);
        try {
          return (await fetch(`${url}/-/ready`)).status === 200;
        } catch {
          return false;
        }
      },
      20_000,
      'Prometheus to be ready',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, log, api, stop };
}
