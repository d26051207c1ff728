/**
 * The connections a server has accepted on either port: each is numbered, counted for metrics,
 * logged when it opens and closes (`connection-new`, `connection-closed`), and cut if still open when
 * the server stops.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';

/** How a connection ended, for its `connection-closed` line. */
export interface ClosedConnection {
  readonly conn: number;
  readonly remote: string;
  readonly reason: string;
  /** The neighbour, for a link. */
  readonly peer?: string;
}

/** The open connections of one server, over both ports. */
export class OpenConnections {
  private readonly streams = new Set<Duplex>();
  private nextId = 1;

  constructor(
    private readonly observer: ServerObserver,
    private readonly log: Logger,
  ) {}

  /** A connection accepted on `port`: counted and logged. Returns its id. */
  opened(port: 'client' | 'peer', stream: Duplex, remote: string): number {
    const id = this.nextId++;
    this.streams.add(stream);
    this.observer.connection(port, 'open');
    this.log.info(
      { event: 'connection-new', conn: id, remote, port },
      `${port === 'client' ? 'client' : 'peer-port'} connection ${id} from ${remote}`,
    );
    return id;
  }

  /** The end of a connection {@link opened}. */
  closed(kind: 'client' | 'peer', stream: Duplex, entry: ClosedConnection): void {
    this.streams.delete(stream);
    this.observer.connection(kind, 'close');
    const peer = entry.peer === undefined ? '' : ` (${entry.peer})`;
    this.log.info(
      { event: 'connection-closed', ...entry, kind },
      `${kind === 'client' ? 'client' : 'peer-port'} connection ${entry.conn}${peer} closed`,
    );
  }

  /** Cuts every connection still open (the last step of a stop). */
  destroyAll(): void {
    for (const stream of this.streams) stream.destroy();
  }
}
