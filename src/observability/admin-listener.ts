/**
 * The admin port bound before the admin HTTP server is loaded (src/cli/serve.ts binds it beside the
 * client and peer ports, so a port in use is refused before anything listens). Connections that
 * arrive before the HTTP server takes the port over are accepted, held unread, and handed to it:
 * they are answered late, never refused. Only `node:net` here: `node:http` comes with the admin
 * server (./admin-server.ts).
 */
import net from 'node:net';
import { httpUrl } from '../core/hosts.js';
import { HerdError } from '../errors.js';

/**
 * Most connections held before the hand-over; a connection past it is closed at accept (its client
 * sees the connection closed at once and may retry). The window is short (until the herd listens,
 * at most HERD_LISTENS_WAIT_MS in src/cli/serve-admin.ts), so this only bounds what a burst can pin.
 */
export const ADMIN_HELD_CONNECTIONS_MAX = 64;

/** A bound and listening admin port, not yet served. */
export class AdminListener {
  private readonly server: net.Server;
  /** Connections accepted before {@link handTo}, paused (nothing read). */
  private held: net.Socket[] = [];
  private handed = false;
  /** The bound address (the real port when 0 was asked for). */
  readonly address: net.AddressInfo;

  private constructor(server: net.Server) {
    this.server = server;
    this.address = server.address() as net.AddressInfo;
    server.on('connection', (socket: net.Socket) => {
      if (this.held.length >= ADMIN_HELD_CONNECTIONS_MAX) {
        socket.destroy();
        return;
      }
      // A connection reset while held is dropped from the hand-over.
      socket.once('close', () => (this.held = this.held.filter((held) => held !== socket)));
      this.held.push(socket);
    });
  }

  /**
   * Binds and listens on `host`:`port` (0: the OS chooses).
   *
   * @throws {HerdError} `HERD_ADMIN_LISTEN` when the port cannot be bound (in use, an address not on
   *   this host), with the `listen` error as `cause`.
   */
  static async bind(host: string, port: number): Promise<AdminListener> {
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new HerdError(
            'HERD_ADMIN_LISTEN',
            `admin server cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
            { cause: error },
          ),
        ),
      );
      server.listen({ host, port }, () => resolve());
    });
    server.removeAllListeners('error');
    // Until the hand-over, a failed accept (no descriptor left: EMFILE) is an 'error' of this server;
    // unheard, it would end the process. The connection it was for is not made; its client sees that.
    server.on('error', () => undefined);
    return new AdminListener(server);
  }

  /** `http://host:port` of the bound port. */
  get url(): string {
    return httpUrl(this.address.address, this.address.port);
  }

  /**
   * Makes `server` (an `http.Server`, not listening) the port's listener: it listens on the same
   * socket, and is given every connection held so far. Once only.
   */
  async handTo(server: net.Server): Promise<void> {
    if (this.handed) throw new Error('admin port already handed over');
    this.handed = true;
    // Listening on this server's handle: the same socket, its accept callback now the new server's.
    await new Promise<void>((resolve) => server.listen(this.server, () => resolve()));
    this.server.removeAllListeners('connection');
    for (const socket of this.held.splice(0)) {
      server.emit('connection', socket);
      socket.resume();
    }
  }

  /** Stops listening and drops the held connections (when the port was never handed over). */
  async close(): Promise<void> {
    if (this.handed) return;
    this.handed = true;
    for (const socket of this.held.splice(0)) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
