/**
 * Admission: the connection limits of a server, over its client and peer ports together
 * (`limits.maxConnections`, `limits.maxConnectionsPerAddress`; docs/operations.md "Limits"). A
 * connection over either limit is closed at accept and logged; its slot is never taken.
 */
import type net from 'node:net';
import type { Logger } from '../observability/logger.js';
import type { ServerLimits } from './limits.js';
import { remoteText } from './listeners.js';

/** Counts open connections, in all and per remote address, and refuses those over the limits. */
export class Admission {
  private readonly limits: Pick<ServerLimits, 'maxConnections' | 'maxConnectionsPerAddress'>;
  private readonly log: Logger;
  private readonly perAddress = new Map<string, number>();
  private openCount = 0;

  constructor(limits: Pick<ServerLimits, 'maxConnections' | 'maxConnectionsPerAddress'>, logger: Logger) {
    this.limits = limits;
    this.log = logger;
  }

  /**
   * Takes a slot for an accepted socket, given back when it closes; or, over a limit, logs the
   * refusal and destroys the socket.
   *
   * @param port - which listener accepted it, for the log.
   * @returns true when admitted.
   */
  admit(socket: net.Socket, port: 'client' | 'peer'): boolean {
    const address = socket.remoteAddress ?? '?';
    const fromAddress = this.perAddress.get(address) ?? 0;
    const { maxConnections, maxConnectionsPerAddress } = this.limits;
    if (this.openCount >= maxConnections || fromAddress >= maxConnectionsPerAddress) {
      const remote = remoteText(socket);
      const which =
        this.openCount >= maxConnections
          ? `maxConnections (${maxConnections})`
          : `maxConnectionsPerAddress (${maxConnectionsPerAddress}) for ${address}`;
      this.log.warn(
        { event: 'connection-refused', port, remote, open: this.openCount, fromAddress },
        `refused connection from ${remote} on the ${port} port: ${which} reached`,
      );
      socket.on('error', () => undefined);
      socket.destroy();
      return false;
    }
    this.openCount++;
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.openCount--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    });
    return true;
  }
}
