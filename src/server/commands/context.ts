/** How the command handlers' shared context is made: the one place its scratch is sized. */
import { AT_LINE_OVERHEAD_BYTES, type AtRecord } from '../../protocol/at-record.js';
import type { WallClock } from '../../protocol/time.js';
import type { LocationStore } from '../../store/location-store.js';
import type { PlacesJson } from '../places-lookup.js';
import type { CommandContext } from './command.js';

/** What {@link createCommandContext} needs. */
export interface CommandContextOptions {
  /** The server's name, written into AT lines (as its UTF-8 bytes). */
  readonly serverName: string;
  readonly clock: WallClock;
  /** How far a client's time may be ahead of the server's clock, ms (`limits.maxFutureSkewMs`). */
  readonly maxFutureSkewMs: number;
  /** Longest line, bytes (`limits.maxLineBytes`): bounds the AT line an IAMAT makes. */
  readonly maxLineBytes: number;
  readonly store: LocationStore;
  readonly ingest: (record: AtRecord) => boolean;
  readonly whenCommitted?: () => Promise<void>;
  readonly lookUpPlaces: (atLine: string, radiusMeters: number, limit: number) => Promise<PlacesJson>;
  /** The answer `lookUpPlaces` would give at once, when it is kept. @default none is ever kept */
  readonly cachedPlaces?: (atLine: string, radiusMeters: number, limit: number) => PlacesJson | undefined;
}

const NOTHING_KEPT = (): undefined => undefined;

/** The context of one server's command handlers. */
export function createCommandContext(options: CommandContextOptions): CommandContext {
  const serverName = Buffer.from(options.serverName, 'utf8');
  return {
    serverName,
    clock: options.clock,
    maxFutureSkewNs: options.maxFutureSkewMs * 1e6,
    store: options.store,
    ingest: options.ingest,
    whenCommitted: options.whenCommitted,
    lookUpPlaces: options.lookUpPlaces,
    cachedPlaces: options.cachedPlaces ?? NOTHING_KEPT,
    scratch: {
      atLine: Buffer.allocUnsafe(AT_LINE_OVERHEAD_BYTES + serverName.length + options.maxLineBytes),
      clientTime: { seconds: 0, nanoseconds: 0 },
    },
  };
}
