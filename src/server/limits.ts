/**
 * The limits of a server: what each bounds, its default, and how a partial set is resolved. This is
 * the one home of these numbers: the config's `limits` section (src/config/herd-schema.ts) is completed
 * from {@link DEFAULT_SERVER_LIMITS}, and a server given a partial set resolves it once, here.
 * docs/operations.md "Limits and security" documents every one.
 */
import { withDefaults } from '../core/settings.js';
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/line-splitter.js';

/** Limits of one server; each has a default in {@link DEFAULT_SERVER_LIMITS}. */
export interface ServerLimits {
  /**
   * Longest line, bytes, on either port. A longer client line gets one `? ` with its first
   * `maxLineBytes` bytes and the connection is closed; memory stays bounded however long it grows.
   * @default 4096
   */
  readonly maxLineBytes: number;
  /** Longest client id, bytes (UTF-8); a longer one gets `? `. @default 256 */
  readonly maxClientIdBytes: number;
  /** Most connections open at once over both ports; more are closed at accept. @default 10000 */
  readonly maxConnections: number;
  /** Most connections open at once from one remote IP address, over both ports. @default 1000 */
  readonly maxConnectionsPerAddress: number;
  /** A client connection silent (nothing received, no reply pending) this long is closed, ms. @default 300000 */
  readonly idleTimeoutMs: number;
  /** Unwritten reply bytes at which a client connection stops being read. @default 262144 */
  readonly maxPendingOutputBytes: number;
  /** Replies waiting to be written at which a client connection stops being read. @default 1024 */
  readonly maxPendingReplies: number;
  /** A client whose unread output stays over `maxPendingOutputBytes` this long is dropped, ms. @default 30000 */
  readonly slowReaderTimeoutMs: number;
  /** On shutdown, longest wait for replies due before connections are cut, ms. @default 5000 */
  readonly shutdownGraceMs: number;
  /** Longest wait for the places source, ms; then the reply carries `UNKNOWN_ERROR`. @default 10000 */
  readonly placesTimeoutMs: number;
  /**
   * How far a client's time may be ahead of the server's clock, ms. An IAMAT further in the future
   * gets `? ` (it would otherwise pin the client's location until that time). @default 86400000 (1 day)
   */
  readonly maxFutureSkewMs: number;
}

/** The default of every {@link ServerLimits} field. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  maxClientIdBytes: 256,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1_000,
  idleTimeoutMs: 300_000,
  maxPendingOutputBytes: 256 * 1024,
  maxPendingReplies: 1024,
  slowReaderTimeoutMs: 30_000,
  shutdownGraceMs: 5_000,
  placesTimeoutMs: 10_000,
  maxFutureSkewMs: 86_400_000,
});

/**
 * Fills the fields a partial set leaves out (or sets to `undefined`) from {@link DEFAULT_SERVER_LIMITS}.
 *
 * @param overrides - the limits to change, e.g. from the config's `limits` or a test.
 * @returns a complete, frozen set.
 */
export function resolveServerLimits(overrides: Partial<ServerLimits> = {}): Readonly<ServerLimits> {
  return withDefaults(DEFAULT_SERVER_LIMITS, overrides);
}
