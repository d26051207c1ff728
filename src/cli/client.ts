/** `herd client TARGET [LINE ...]`: a line client for talking to a herd server. */
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { loadHerdConfig } from '../config/herd-config.js';
import { UsageError } from '../errors.js';

/** Default {@link ClientOptions.timeoutMs}: give up when the server is silent this long. */
export const CLIENT_TIMEOUT_MS = 15_000;

/** Options of {@link runClient}. */
export interface ClientOptions {
  /** A server name of `configFile`, or `host:port`. */
  readonly target: string;
  /** Config file used to resolve a server name. */
  readonly configFile: string;
  /** Lines to send; when empty, lines come from `stdin`. */
  readonly lines: readonly string[];
  /** Idle time after which a non-interactive client gives up, ms. @default {@link CLIENT_TIMEOUT_MS} */
  readonly timeoutMs?: number;
  readonly stdin?: Readable & { isTTY?: boolean };
  readonly stdout?: Writable;
  readonly stderr?: Writable;
}

/**
 * Resolves a target to an address.
 *
 * @throws {UsageError} when the target is neither `host:port` nor a server of the config.
 */
export function resolveTarget(target: string, configFile: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(target);
  if (match !== null) {
    const port = Number(match[2]);
    if (port < 1 || port > 65535) throw new UsageError(`bad port in "${target}"`);
    return { host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
  }
  const config = loadHerdConfig(configFile);
  const server = config.servers.find((s) => s.name === target);
  if (server === undefined) {
    throw new UsageError(`"${target}" is neither host:port nor a server of ${configFile} (servers are ${config.servers.map((s) => s.name).join(', ')})`);
  }
  if (server.port === 0) throw new UsageError(`${target} has port 0 in ${configFile}: give its real address as host:port`);
  return { host: server.host, port: server.port };
}

/**
 * Sends the lines (or stdin) to the target, half-closes, and copies every reply to stdout until the
 * server closes. Interactive on a terminal: replies print as they arrive, Ctrl-D ends.
 *
 * @returns the process exit code: 0 when the server answered and closed, 1 on a connection error or
 *   time-out (the reason goes to stderr).
 */
export async function runClient(options: ClientOptions): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const address = resolveTarget(options.target, options.configFile);
  const interactive = options.lines.length === 0 && stdin.isTTY === true;
  const timeoutMs = options.timeoutMs ?? CLIENT_TIMEOUT_MS;
  return new Promise<number>((resolve) => {
    let failed = false;
    const socket = net.connect({ host: address.host, port: address.port, allowHalfOpen: true });
    socket.on('connect', () => {
      if (options.lines.length > 0) {
        socket.end(`${options.lines.join('\n')}\n`);
      } else {
        stdin.pipe(socket);
      }
    });
    if (!interactive) {
      socket.setTimeout(timeoutMs, () => {
        stderr.write(`herd client: no reply from ${address.host}:${address.port} for ${timeoutMs} ms; giving up\n`);
        failed = true;
        socket.destroy();
      });
    }
    socket.on('data', (chunk: Buffer) => stdout.write(chunk));
    socket.on('end', () => socket.end());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      stderr.write(`herd client: ${address.host}:${address.port}: ${error.code ?? error.message}\n`);
      failed = true;
    });
    socket.on('close', () => {
      stdin.unpipe(socket);
      if (stdin === process.stdin) process.stdin.pause();
      resolve(failed ? 1 : 0);
    });
  });
}
