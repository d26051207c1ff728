/**
 * `herd stop`: stops a herd that `herd start` runs (in another terminal, or in the background),
 * through its runtime file (runtime-file.ts): SIGTERM to the supervisor, which stops every server as
 * on Ctrl-C, then a wait until it has exited (docs/operations.md "Processes").
 */
import path from 'node:path';
import { loadHerdConfig } from '../config/herd-config.js';
import { HerdError } from '../errors.js';
import { commandHint, countServers } from './wording.js';
import { processAlive, readRuntimeFile, runtimeFilePath } from './runtime-file.js';
import { STOP_TIMEOUT_MS } from './defaults.js';

export { STOP_TIMEOUT_MS } from './defaults.js';

/** How often `herd stop` looks whether the supervisor has exited, ms. */
export const STOP_POLL_INTERVAL_MS = 50;

/** Options of {@link stopHerd}. */
export interface StopOptions {
  readonly configFile: string;
  /** The `--log-dir` given to `herd start`, where its runtime file is. @default the config's `logDir` */
  readonly logDir?: string;
  /** Longest wait for the supervisor to exit, ms. @default {@link STOP_TIMEOUT_MS} */
  readonly timeoutMs?: number;
  /** Where progress lines go. @default stdout */
  readonly print?: (line: string) => void;
  /** Where the line saying nothing was running goes. @default stderr */
  readonly warn?: (line: string) => void;
}

/**
 * Stops the herd of a config that `herd start` runs, and waits until its supervisor has exited.
 *
 * @returns the exit code: 0 when the herd stopped, and when none was running (said on stderr).
 * @throws {ConfigError} for a bad config; {@link HerdError} (exit code 1) when the supervisor cannot be
 *   signalled or has not exited within `timeoutMs`.
 */
export async function stopHerd(options: StopOptions): Promise<number> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const configFile = path.resolve(options.configFile);
  const config = loadHerdConfig(configFile);
  const file = runtimeFilePath(options.logDir ?? config.logDir);
  const runtime = readRuntimeFile(file, configFile);
  if (runtime === undefined) {
    warn(
      `herd: no herd of ${configFile} is running (no live herd start in ${file}); nothing to stop (if herd start had --log-dir DIR, give it here too)`,
    );
    return 0;
  }
  const pid = runtime.supervisorPid;
  const servers = Object.keys(runtime.servers).length;
  try {
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') {
      warn(`herd: the herd of ${configFile} stopped by itself; nothing to stop`);
      return 0;
    }
    throw new HerdError(
      'HERD_STOP_FAILED',
      `cannot signal herd start (pid ${pid}): ${code ?? String(error)}${code === 'EPERM' ? '; it belongs to another user: run herd stop as that user' : ''}`,
      { cause: error },
    );
  }
  print(`herd: stopping the herd of ${configFile} (herd start pid ${pid}, ${countServers(servers)})`);
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? STOP_TIMEOUT_MS;
  // Not our child: polling is the only way to see another process exit.
  while (processAlive(pid)) {
    if (performance.now() - started > timeoutMs) {
      throw new HerdError(
        'HERD_STOP_TIMEOUT',
        `herd start (pid ${pid}) has not exited ${timeoutMs} ms after SIGTERM; ${commandHint('status', configFile)} shows what still runs, kill -KILL ${pid} ends it`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, STOP_POLL_INTERVAL_MS));
  }
  print(`herd: stopped in ${Math.round(performance.now() - started)} ms`);
  return 0;
}
