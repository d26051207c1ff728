/** `herd client TARGET [LINE ...]`: a line client for talking to a herd server. */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { Readable, Writable } from 'node:stream';
import { loadHerdConfig } from '../config/herd-config.js';
import { UsageError } from '../errors.js';
import { CLIENT_TIMEOUT_MS } from './defaults.js';
import { readRuntimeFile, runtimeFilePath } from './runtime-file.js';

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
  /** Connect with TLS, with these options (CA). @default plain TCP */
  readonly tls?: tls.ConnectionOptions;
  readonly stdin?: Readable & { isTTY?: boolean };
  readonly stdout?: Writable;
  readonly stderr?: Writable;
}

/**
 * Resolves a target to an address. A server name is looked up in the runtime file of a running
 * `herd start` of this config first (its real port), then in the config.
 *
 * @throws {UsageError} when the target is neither `host:port` nor a server of the config, or the
 *   server has port 0 and no running `herd start` of the config says where it is.
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
    throw new UsageError(
      `"${target}" is neither host:port nor a server of ${configFile} (servers are ${config.servers.map((s) => s.name).join(', ')})`,
    );
  }
  // A running `herd start` of this config knows the real port (docs/observability.md, runtime file).
  const live = readRuntimeFile(runtimeFilePath(config.logDir), configFile)?.servers[target];
  if (live !== undefined) return { host: live.host, port: live.port };
  if (server.port === 0)
    throw new UsageError(
      `${target} has port 0 in ${configFile} and no running herd start of it was found: give its real address as host:port`,
    );
  return { host: server.host, port: server.port };
}

/**
 * TLS options for the client: with `--tls` or `--ca FILE`, or when the config has a `tls` section
 * (its `caFile` then verifies the server).
 *
 * @returns undefined for plain TCP.
 * @throws {UsageError} when a CA file cannot be read.
 */
export function clientTlsOptions(
  configFile: string,
  flags: { tls?: boolean; ca?: string },
): tls.ConnectionOptions | undefined {
  let caFile = flags.ca;
  let useTls = flags.tls === true || caFile !== undefined;
  if (caFile === undefined) {
    try {
      const settings = loadHerdConfig(configFile).tls;
      if (settings !== undefined) {
        useTls = true;
        if (settings.caFile !== undefined) caFile = path.resolve(path.dirname(configFile), settings.caFile);
      }
    } catch {
      // A config that does not load only matters for name targets, which report it themselves.
    }
  }
  if (!useTls) return undefined;
  if (caFile === undefined) return {};
  try {
    return { ca: readFileSync(caFile) };
  } catch (error) {
    throw new UsageError(`cannot read CA file ${caFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
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
    const socket =
      options.tls === undefined
        ? net.connect({ host: address.host, port: address.port, allowHalfOpen: true })
        : tls.connect({
            ...(net.isIP(address.host) === 0 ? { servername: address.host } : {}),
            ...options.tls,
            host: address.host,
            port: address.port,
          });
    socket.once(options.tls === undefined ? 'connect' : 'secureConnect', () => {
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
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      stdout.write(chunk);
    });
    socket.on('end', () => socket.end());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      stderr.write(`herd client: ${address.host}:${address.port}: ${error.code ?? error.message}\n`);
      failed = true;
    });
    socket.on('close', () => {
      if (!failed && received === 0 && options.lines.length > 0) {
        stderr.write(
          `herd client: ${address.host}:${address.port} closed the connection without a reply${options.tls === undefined ? ' (a TLS port? try --tls)' : ''}\n`,
        );
        failed = true;
      }
      stdin.unpipe(socket);
      if (stdin === process.stdin) process.stdin.pause();
      resolve(failed ? 1 : 0);
    });
  });
}
