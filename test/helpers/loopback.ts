/**
 * Loopback ports for the tests and the bench: a port free right now (for a config that must name
 * its port before the server starts), and a connection made the instant a port first accepts.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port number free on 127.0.0.1 right now (for a config that must name its port before the server starts). */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Connects to 127.0.0.1:`port` as soon as it accepts, trying about every millisecond.
 *
 * @returns the connected socket (half-open allowed), whose `acceptedAt` is the `performance.now()`
 *   of the connect.
 * @throws Error when the port has not accepted within `timeoutMs`.
 */
export async function connectTheInstantItAccepts(
  port: number,
  timeoutMs: number,
): Promise<net.Socket & { readonly acceptedAt: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (connected) return Object.assign(socket, { acceptedAt: performance.now() });
    socket.destroy();
    if (performance.now() > deadline) throw new Error(`port ${port} did not accept within ${timeoutMs} ms`);
    await sleep(1);
  }
}
