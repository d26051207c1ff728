/** `herd client TARGET [LINE ...]`: a line client for talking to a herd server. */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import { nodeTls } from '../core/lazy-builtins.js';
import type { Readable, Writable } from 'node:stream';
import { loadHerdConfig } from '../config/herd-config.js';
import { UsageError } from '../errors.js';
import { CLIENT_TIMEOUT_MS } from './defaults.js';
import { commandHint } from './wording.js';
import { readRuntimeFile, runtimeFilePath } from './runtime-file.js';

/**
 * Longest wait for the TLS handshake `herd client` tries on a port that closed without a reply, to
 * tell a TLS port (which answers it) from a peer port (which does not), ms.
 */
export const TLS_PROBE_TIMEOUT_MS = 1000;

/** Where `herd client` connects: the address, and for a server named in the config its name and log. */
export interface ClientTarget {
  readonly host: string;
  readonly port: number;
  /** The server's name, when the target was one. */
  readonly name?: string;
  /** The server's log file (from the runtime file, else `<logDir>/<name>.log`), when the target was a name. */
  readonly logFile?: string;
}

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
export function resolveTarget(target: string, configFile: string): ClientTarget {
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
  if (live !== undefined) return { host: live.host, port: live.port, name: target, logFile: live.logFile };
  if (server.port === 0)
    throw new UsageError(
      `${target} has port 0 in ${configFile} and no running herd start of it was found: give its real address as host:port`,
    );
  const logFile = path.resolve(config.logDir, `${target}.log`);
  return { host: server.host, port: server.port, name: target, logFile };
}

/**
 * Counts the replies that are `? ` lines (the server did not accept the line: docs/protocol.md) in a
 * stream of reply bytes, whatever the chunk boundaries.
 */
export class RefusedReplyCounter {
  /** `? ` lines seen so far. */
  count = 0;
  /** 0 inside a line, 1 at the start of a line, 2 after a `?` that started a line. */
  private state = 1;

  feed(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === 0x0a) this.state = 1;
      else if (this.state === 1) this.state = byte === 0x3f ? 2 : 0;
      else if (this.state === 2) {
        if (byte === 0x20) this.count++;
        this.state = 0;
      }
    }
  }
}

/**
 * Whether `host:port` answers a TLS handshake within {@link TLS_PROBE_TIMEOUT_MS} (the certificate is
 * not checked: only whether it speaks TLS). A peer port reads the handshake as a bad first line and
 * closes, or waits for a line end; either is "no".
 */
export function speaksTls(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = nodeTls().connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
    });
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), TLS_PROBE_TIMEOUT_MS);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** TLS error codes that mean the far end speaks no TLS. */
const NOT_TLS_CODES = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

/** The one line (without `herd client: `) for a connection that failed with `error`. */
function connectionErrorMessage(
  error: NodeJS.ErrnoException,
  where: string,
  host: string,
  statusHint: string,
  usingTls: boolean,
): string {
  const code = error.code ?? error.message;
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${where}: nothing listens there (ECONNREFUSED); is the herd running? ${statusHint} shows it`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach ${where} (${code}): check the address, the network and firewalls; ${statusHint} shows the herd`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${where}: no such host "${host}" (${code})`;
    default:
      break;
  }
  if (usingTls && (NOT_TLS_CODES.has(code) || /wrong version number|packet length too long/i.test(error.message)))
    return `${where} does not speak TLS (${code}): leave out --tls and --ca (and the config's tls section)`;
  if (usingTls && /certificate|CERT|SELF_SIGNED|ALTNAME/i.test(`${code} ${error.message}`))
    return `${where}: its certificate does not verify (${code}: ${error.message}); give the herd's CA with --ca FILE`;
  return `${where}: ${code}`;
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
 * server closes. Interactive on a terminal: replies print as they arrive, Ctrl-D ends. Every failure
 * is one line on stderr that names the server and says what to do.
 *
 * @returns the process exit code: 0 when the server answered every line and closed; 1 when a reply
 *   was `? ` (with a line saying where the server's log gives the reason), on a connection error or
 *   time-out, or when the server closed without a reply (a peer port, or a TLS port reached without
 *   --tls: told apart by a TLS handshake).
 */
export async function runClient(options: ClientOptions): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const address = resolveTarget(options.target, options.configFile);
  const where =
    address.name === undefined
      ? `${address.host}:${address.port}`
      : `${address.name} (${address.host}:${address.port})`;
  const statusHint = commandHint('status', options.configFile);
  const interactive = options.lines.length === 0 && stdin.isTTY === true;
  const timeoutMs = options.timeoutMs ?? CLIENT_TIMEOUT_MS;
  const fail = (message: string): void => {
    stderr.write(`herd client: ${message}\n`);
  };
  const closed = await new Promise<{ failed: boolean; received: number; refused: number }>((resolve) => {
    let failed = false;
    const socket =
      options.tls === undefined
        ? net.connect({ host: address.host, port: address.port, allowHalfOpen: true })
        : nodeTls().connect({
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
        fail(`no reply from ${where} for ${timeoutMs} ms; giving up (--timeout MS waits longer)`);
        failed = true;
        socket.destroy();
      });
    }
    let received = 0;
    const refused = new RefusedReplyCounter();
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      refused.feed(chunk);
      stdout.write(chunk);
    });
    socket.on('end', () => socket.end());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!failed) fail(connectionErrorMessage(error, where, address.host, statusHint, options.tls !== undefined));
      failed = true;
    });
    socket.on('close', () => {
      stdin.unpipe(socket);
      if (stdin === process.stdin) process.stdin.pause();
      resolve({ failed, received, refused: refused.count });
    });
  });
  if (closed.failed) return 1;
  if (closed.received === 0 && options.lines.length > 0) {
    if (options.tls !== undefined) {
      fail(
        `${where} closed the connection without a reply; its log says why${address.logFile === undefined ? '' : ` (${address.logFile})`}`,
      );
    } else if (await speaksTls(address.host, address.port)) {
      fail(`${where} closed the connection without a reply: it is a TLS port; add --tls (and --ca FILE to verify it)`);
    } else {
      fail(
        `${where} closed the connection without a reply: this looks like a peer port (it closes on a first line that is not HELLO); send client commands to the server's client port (${statusHint} lists them)`,
      );
    }
    return 1;
  }
  if (closed.refused > 0) {
    const reasons =
      address.logFile === undefined
        ? `the server's log gives the reason of each (its lines with "reply":"? )`
        : `its log gives the reason of each: grep '"reply":"? ' ${address.logFile}`;
    fail(
      `${closed.refused === 1 ? 'a reply was' : `${closed.refused} replies were`} "? " (the server did not accept the line); ${reasons}`,
    );
    return 1;
  }
  return 0;
}
