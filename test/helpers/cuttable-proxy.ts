/**
 * A loopback TCP proxy that a test can cut, in two ways:
 * - {@link CuttableProxy.partition}: it destroys every connection through it and refuses new ones,
 *   as a partition that the kernel reports (a reset) would;
 * - {@link CuttableProxy.silence}: it keeps every connection open and drops what flows, and new
 *   connections are accepted and never answered, as a silent partition (a pulled cable, a
 *   firewall dropping packets) would: only a failure detector notices.
 *
 * The tests use it to block a link while both servers stay up; the bench's soak, to flap a link.
 */
import net from 'node:net';

export class CuttableProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  private silent = false;
  /** Connections open when {@link silence} was called: they stay mute. */
  private readonly muted = new WeakSet<net.Socket>();
  /** Connections accepted and forwarded so far. */
  forwarded = 0;
  /** Chunks that arrived on either side so far, forwarded or dropped: a test sees the traffic settle. */
  chunks = 0;

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
      self.sockets.add(inbound);
      inbound.on('close', () => self.sockets.delete(inbound));
      if (self.silent) {
        // Accepted and never answered: the dialler's handshake deadline has to notice.
        inbound.on('data', () => self.chunks++);
        inbound.on('error', () => inbound.destroy());
        return;
      }
      self.forwarded++;
      const outbound = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
      self.sockets.add(outbound);
      outbound.on('close', () => self.sockets.delete(outbound));
      for (const [from, to] of [
        [inbound, outbound],
        [outbound, inbound],
      ] as const) {
        from.on('data', (chunk: Buffer) => {
          self.chunks++;
          if (!self.muted.has(from)) to.write(chunk);
        });
        from.on('end', () => {
          if (!self.muted.has(from)) to.end();
        });
        from.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
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

  /** Cuts silently: every byte through the proxy is dropped and nothing is closed, until {@link heal}. */
  silence(): void {
    this.silent = true;
    for (const socket of this.sockets) this.muted.add(socket);
  }

  /** Ends the partition or the silence (connections silenced stay mute: their ends must notice). */
  heal(): void {
    this.cut = false;
    this.silent = false;
  }

  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
