/** The options of a `HerdServer` and the addresses it listens on. */
import type net from 'node:net';
import type { Timers } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';
import type { HerdLink } from '../peers/hop-counts.js';
import type { LinkSettings } from '../peers/link-settings.js';
import type { PeerAddress } from '../peers/outgoing-link.js';
import type { PlacesProvider } from '../places/provider.js';
import type { AtRecord } from '../protocol/at-record.js';
import type { WallClock } from '../protocol/time.js';
import type { LocationStore } from '../store/location-store.js';
import type { LocationPersistence } from '../store/persistence.js';
import type { ServerLimits } from './limits.js';
import type { ServerTls } from './listeners.js';

/** Everything a `HerdServer` needs. */
export interface HerdServerOptions {
  /** The server's name (in AT replies and handshakes). */
  readonly name: string;
  /** Interface of the client port. */
  readonly host: string;
  /** Client port (clients only); 0 picks a free one (read it back from `HerdServer.listen`). */
  readonly port: number;
  /** Interface of the peer port. @default {@link host} */
  readonly peerHost?: string;
  /** Peer port (links only); 0 picks a free one. @default 0 */
  readonly peerPort?: number;
  /** Names of the neighbours this server dials and accepts links from. */
  readonly neighbours: readonly string[];
  /**
   * Every link of the herd (the config's `links`), for the hop counts of the tree dissemination
   * (src/peers/hop-counts.ts). @default this server's own links only
   */
  readonly herdLinks?: readonly HerdLink[];
  /** Where neighbours' peer ports are, as far as known; more can be given with `HerdServer.setPeerAddress`. */
  readonly peerAddresses?: ReadonlyMap<string, PeerAddress>;
  readonly places: PlacesProvider;
  readonly logger: Logger;
  /** Stamps IAMATs. @default {@link SystemWallClock} */
  readonly clock?: WallClock;
  /** Clock and timers of every timeout (idle, handshake, slow reader, backoff, anti-entropy). @default {@link SYSTEM_TIMERS} */
  readonly timers?: Timers;
  /** Token that changes at every start, sent to neighbours. @default POSIX ms and 4 random bytes */
  readonly incarnation?: string;
  /** Limits; what is left out takes its default (src/server/limits.ts). */
  readonly limits?: Partial<ServerLimits>;
  /** Link settings; what is left out takes its default (src/peers/link-settings.ts). */
  readonly links?: Partial<LinkSettings>;
  /**
   * The table to serve from. @default a new, empty {@link LocationStore} (`herd serve` gives a
   * `RestoringStore`, src/store/restoring-store.ts, that fills itself from the durable store after
   * listening).
   */
  readonly store?: LocationStore;
  /** Records to start with; offered to the table without flooding. */
  readonly initialRecords?: Iterable<AtRecord>;
  /** Where stored records go to be durable. @default none (memory only) */
  readonly persistence?: LocationPersistence;
  /** Acknowledge an IAMAT only once its update is committed to `persistence`. @default false */
  readonly syncCommit?: boolean;
  /** Receives counts and latencies for metrics. @default {@link NOOP_OBSERVER} */
  readonly observer?: ServerObserver;
  /** The herd secret that authenticates links (src/peers/handshake.ts). @default none: development mode */
  readonly secret?: Buffer;
  /** TLS for both listeners and for outgoing links. @default plain TCP */
  readonly tls?: ServerTls;
}

/** Where a server listens once `HerdServer.listen` resolves. */
export interface ListeningAddresses {
  /** The client port. */
  readonly client: net.AddressInfo;
  /** The peer port. */
  readonly peer: net.AddressInfo;
}
