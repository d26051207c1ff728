/**
 * What a client command handler is: a function from a parsed command to a typed result. The
 * handlers live one per file beside this one and are dispatched from one table (./index.ts); the
 * session (../client-session.ts) logs and counts each result once, by its `outcome`, and answers a
 * refused line with `? <line>` (docs/protocol.md#anything-else), so no handler needs the line itself.
 */
import type { AtRecord } from '../../protocol/at-record.js';
import type { ReplyBytes } from '../../protocol/bytes.js';
import type { ClientCommand } from '../../protocol/commands.js';
import type { PosixInstant, WallClock } from '../../protocol/time.js';
import type { LocationStore } from '../../store/location-store.js';
import type { PlacesJson } from '../places-lookup.js';
import type { CommandKind, CommandOutcome } from './outcomes.js';

/** How a command ended: the reply to write, its outcome label, and why (for the log) when not ok. */
export interface CommandResult {
  /**
   * The whole reply with its terminator(s): a binary string, or a head and a body of bytes (a
   * WHATSAT's; src/protocol/bytes.ts); `undefined` when the line is refused and answered `? <line>`.
   */
  readonly reply: ReplyBytes | undefined;
  /**
   * The reply's first line without its newline, when the handler has it as a string already (an
   * IAMAT's AT line): logged as it is, sparing a search and a slice of the reply. @default none
   */
  readonly replyLine?: string;
  /** The label of metrics and logs. */
  readonly outcome: CommandOutcome;
  /** Why the command was refused, for the log (never sent to the client). */
  readonly reason?: string;
  /** For a WHATSAT, its look-up: logged with the command as `places: { source, status, results, ms, cached? }`. */
  readonly places?: PlacesJson['places'];
}

/** A result now, or later (a WHATSAT waiting on places; an IAMAT waiting on its commit with `store.sync`). */
export type CommandReply = CommandResult | Promise<CommandResult>;

/** What the handlers of one server share. */
export interface CommandContext {
  /** The server's name as the bytes written into AT lines. */
  readonly serverName: Buffer;
  /** Stamps the receive time of an IAMAT. */
  readonly clock: WallClock;
  /** How far a client's time may be ahead of the server's clock, ns (`limits.maxFutureSkewMs`). */
  readonly maxFutureSkewNs: number;
  /** The location table (read by WHATSAT). */
  readonly store: LocationStore;
  /** Offers a record to the store; when it is newer, persists and floods it. True when stored. */
  ingest(record: AtRecord): boolean;
  /** With `store.sync`: resolves once everything written so far is committed. Else `undefined`. */
  readonly whenCommitted: (() => Promise<void>) | undefined;
  /**
   * Asks the places source, within the server's time limit, for the document a WHATSAT prints about
   * the client whose stored AT line is `atLine`; always resolves (failures become a status).
   */
  lookUpPlaces(atLine: string, radiusMeters: number, limit: number): Promise<PlacesJson>;
  /**
   * What {@link lookUpPlaces} would answer, at once, when an identical look-up's document is kept (the
   * offline source's); `undefined` when it must be asked.
   */
  cachedPlaces(atLine: string, radiusMeters: number, limit: number): PlacesJson | undefined;
  /** Scratch the handlers reuse from command to command (they run one at a time). */
  readonly scratch: CommandScratch;
}

/** Memory the handlers write into instead of allocating per command. */
export interface CommandScratch {
  /** An AT line being written: at least `AT_LINE_OVERHEAD_BYTES` + name + `limits.maxLineBytes` bytes. */
  readonly atLine: Buffer;
  /** A client time being read. */
  readonly clientTime: PosixInstant;
}

export type { CommandKind, CommandOutcome };

/** The parsed command of kind `K`. */
export type CommandOf<K extends CommandKind> = Extract<ClientCommand, { kind: K }>;

/** A handler: turns one parsed command into its result. */
export type CommandHandler<K extends CommandKind> = (command: CommandOf<K>, context: CommandContext) => CommandReply;

/** One handler per command kind. */
export type CommandTable = { readonly [K in CommandKind]: CommandHandler<K> };
