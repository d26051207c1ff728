/**
 * Admission: the connection limits of a server, over its client and peer ports together
 * (`limits.maxConnections`, `limits.maxConnectionsPerAddress`; docs/operations.md "Limits and security"), and the
 * file descriptors the client port leaves to links and the store (src/server/descriptors.ts;
 * docs/operations.md "When descriptors run out"). A connection refused is closed at accept, counted
 * (`herd_accept_failures_total{reason}`) and logged at most once a second per reason; its slot is
 * never taken.
 */
import type net from 'node:net';
import type { Logger } from '../observability/logger.js';
import { LogThrottle } from '../observability/log-throttle.js';
import { ACCEPT_FAILURE_REASONS, type AcceptFailureReason, type ServerObserver } from '../observability/observer.js';
import { DescriptorBudget } from './descriptors.js';
import type { ServerLimits } from './limits.js';
import { remoteText } from './listeners.js';

/** Counts open connections, in all and per remote address, and refuses those over the limits. */
export class Admission {
  private readonly limits: Pick<ServerLimits, 'maxConnections' | 'maxConnectionsPerAddress'>;
  private readonly log: Logger;
  private readonly observer: Pick<ServerObserver, 'acceptFailure'>;
  private readonly perAddress = new Map<string, number>();
  private readonly throttles = new Map<AcceptFailureReason, LogThrottle>(
    ACCEPT_FAILURE_REASONS.map((reason) => [reason, new LogThrottle()]),
  );
  private openCount = 0;
  /** The descriptors left, read about once a second while the server listens. */
  readonly descriptors = new DescriptorBudget(() => this.openCount);

  constructor(
    limits: Pick<ServerLimits, 'maxConnections' | 'maxConnectionsPerAddress'>,
    logger: Logger,
    observer: Pick<ServerObserver, 'acceptFailure'>,
  ) {
    this.limits = limits;
    this.log = logger;
    this.observer = observer;
  }

  /**
   * Takes a slot for an accepted socket, given back when it closes; or, over a limit, counts and
   * logs the refusal and destroys the socket. Peer-port connections (links) may use the descriptors
   * the client port leaves free.
   *
   * @param port - which listener accepted it.
   * @returns true when admitted.
   */
  admit(socket: net.Socket, port: 'client' | 'peer'): boolean {
    const address = socket.remoteAddress ?? '?';
    const fromAddress = this.perAddress.get(address) ?? 0;
    const reason = this.refusal(fromAddress, port);
    if (reason !== undefined) {
      this.refuse(socket, port, reason, address, fromAddress);
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

  /** Why a connection cannot be admitted now, or `undefined` when it can. */
  private refusal(fromAddress: number, port: 'client' | 'peer'): AcceptFailureReason | undefined {
    if (this.openCount >= this.limits.maxConnections) return 'max_connections';
    if (fromAddress >= this.limits.maxConnectionsPerAddress) return 'max_connections_per_address';
    if (port === 'client' && this.descriptors.clientRoom() <= 0) return 'descriptors';
    return undefined;
  }

  private refuse(
    socket: net.Socket,
    port: 'client' | 'peer',
    reason: AcceptFailureReason,
    address: string,
    fromAddress: number,
  ): void {
    socket.on('error', () => undefined);
    socket.destroy();
    this.observer.acceptFailure(port, reason);
    const suppressed = this.throttles.get(reason)?.take();
    if (suppressed === undefined) return;
    const remote = remoteText(socket);
    const more = suppressed > 0 ? ` (${suppressed} more refused for this since the last line)` : '';
    this.log.warn(
      { event: 'connection-refused', port, remote, reason, open: this.openCount, fromAddress, suppressed },
      `refused connection from ${remote} on the ${port} port: ${this.why(reason, address)}${more}`,
    );
  }

  private why(reason: AcceptFailureReason, address: string): string {
    const { maxConnections, maxConnectionsPerAddress } = this.limits;
    if (reason === 'max_connections') return `maxConnections (${maxConnections}) reached`;
    if (reason === 'max_connections_per_address') {
      return `maxConnectionsPerAddress (${maxConnectionsPerAddress}) for ${address} reached`;
    }
    const limit = this.descriptors.descriptorLimit ?? 0;
    return `file descriptors nearly out (limit ${limit}; the last ${this.descriptors.reserveOf(limit)} are kept for links and the store)`;
  }
}
