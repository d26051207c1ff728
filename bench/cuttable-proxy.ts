/**
 * A loopback TCP proxy that can be cut: while cut, it destroys every connection through it and
 * refuses new ones, as a network partition would. The tests use it to block a link in both
 * directions while both servers stay up; the soak, to flap a link (re-exported for the tests by
 * test/helpers/cuttable-proxy.ts).
 */
import net from 'node:net';

export class CuttableProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  /** Connections accepted and forwarded so far. */
  forwarded = 0;

  private constructor(server: net.Server) {
    this.server = server;
  }

  /** Starts a proxy on 127.0.0.1 port 0 forwarding to `target`. */
  static async start(target: { host: string; port: number }): Promise<{ proxy: CuttableProxy; port: number }> {
    const server = net.createServer({ allowHalfOpen: true }, (inbound) => {
      // Connections arrive only after listen(), when `proxy` is set.
      const self = proxy;
      if (self.cut) {
        inbound.destroy();
        return;
      }
      self.forwarded++;
      const outbound = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
      for (const socket of [inbound, outbound]) {
        self.sockets.add(socket);
        socket.on('close', () => self.sockets.delete(socket));
        socket.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    const proxy = new CuttableProxy(server);
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    return { proxy, port: (server.address() as net.AddressInfo).port };
  }

  /** Partitions: drops every open connection and refuses new ones until {@link heal}. */
  partition(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Ends the partition. */
  heal(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
