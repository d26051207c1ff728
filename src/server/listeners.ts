/**
 * The TCP (or TLS) listeners of a server's two ports, and how their addresses are written: the
 * plumbing under {@link HerdServer.listen}.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { nodeTls } from '../core/lazy-builtins.js';
import { LogThrottle } from '../observability/log-throttle.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';

/** TLS for both listeners and for outgoing links. */
export interface ServerTls {
  readonly server: tls.SecureContextOptions;
  readonly client: tls.ConnectionOptions;
}

/**
 * Creates a listener (not yet listening) that hands each accepted socket to `onSocket`; with TLS, a
 * failed handshake is logged (`tls-error`).
 *
 * @param allowHalfOpen - keep writing after the remote end half-closes (the client port: a client
 *   that half-closes still gets every reply, docs/protocol.md "Framing").
 */
export function createListener(
  allowHalfOpen: boolean,
  onSocket: (socket: net.Socket) => void,
  tlsOptions: ServerTls | undefined,
  log: Logger,
): net.Server {
  if (tlsOptions === undefined) return net.createServer({ allowHalfOpen, noDelay: true }, onSocket);
  const server = nodeTls().createServer({ ...tlsOptions.server, allowHalfOpen }, onSocket);
  server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) =>
    log.warn(
      { event: 'tls-error', remote: remoteText(socket), err: error.message },
      `TLS handshake failed: ${error.message}`,
    ),
  );
  return server;
}

/** Listens on `host:port`; rejects with the `listen` error (e.g. `EADDRINUSE`). */
export function listenOn(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Counts and logs (at most once a second) what a listening port fails to accept: an `error` event of
 * a listener is an accept that failed (`EMFILE` when libuv's spare descriptor is gone too, `ENFILE`,
 * `ENOMEM`); the listener stays open and accepts again as soon as it can.
 */
export function watchAcceptErrors(
  listener: net.Server,
  port: 'client' | 'peer',
  log: Logger,
  observer: Pick<ServerObserver, 'acceptFailure'>,
): void {
  const throttle = new LogThrottle();
  listener.on('error', (error: NodeJS.ErrnoException) => {
    observer.acceptFailure(port, 'accept_error');
    const suppressed = throttle.take();
    if (suppressed === undefined) return;
    log.error(
      { event: 'accept-failed', port, code: error.code, err: error.message, suppressed },
      `the ${port} port could not accept a connection (${error.message}); it keeps listening`,
    );
  });
}

/** `host:port` of a connection's remote end (brackets around an IPv6 host; `?` for what is unknown), as logs name it. */
export function remoteText(socket: net.Socket): string {
  const host = socket.remoteAddress ?? '?';
  return `${socket.remoteFamily === 'IPv6' ? `[${host}]` : host}:${socket.remotePort ?? '?'}`;
}

/** `host:port` of a bound address (brackets around an IPv6 host), or `''` for none. */
export function addressText(address: net.AddressInfo | undefined): string {
  if (address === undefined) return '';
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}
