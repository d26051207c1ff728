/**
 * Every message of a link (docs/protocol.md#links) as one typed union, and the reader that turns a
 * link's bytes into those messages: bytes in, typed messages out, one handler per message type, no
 * knowledge of sockets (the shape of nats.js's protocol parser). Each line is parsed once, here; the
 * formats are those of ./handshake.ts, ./anti-entropy-messages.ts, ./tree-messages.ts,
 * ./failure-detector.ts and the AT record's codec (src/protocol/at-record.ts).
 */
import { heldAtRecord, parseAtRecord, type AtRecord } from '../protocol/at-record.js';
import { FieldOffsets, scanFields, splitFields } from '../protocol/fields.js';
import { LineSplitter, type LineSplitterOptions } from '../protocol/line-splitter.js';
import { parseSyncMessage, type SyncMessage } from './anti-entropy-messages.js';
import { HEARTBEAT_LINE } from './failure-detector.js';
import { parseAuth, parseGreeting, type Greeting } from './handshake.js';
import { parseTreeMessage, type TreeMessage } from './tree-messages.js';

/** An AT record: a flood, or a record sent by anti-entropy. */
export interface AtMessage extends AtRecord {
  readonly type: 'AT';
}

/** A line that carries nothing but the fact that the neighbour is alive. */
export interface HeartbeatMessage {
  readonly type: 'HEARTBEAT';
}

/** The dialler's first line. */
export interface HelloMessage {
  readonly type: 'HELLO';
  readonly greeting: Greeting;
}

/** The neighbour's answer to a HELLO. */
export interface WelcomeMessage {
  readonly type: 'WELCOME';
  readonly greeting: Greeting;
}

/** The dialler's proof of the herd secret. */
export interface AuthMessage {
  readonly type: 'AUTH';
  /** The MAC, hex. */
  readonly mac: string;
}

/** A line that is none of the messages (or a malformed one). */
export interface MalformedMessage {
  readonly type: 'MALFORMED';
  /** The line as received, a binary string, at most {@link MALFORMED_LINE_BYTES} bytes of it. */
  readonly line: string;
  /** What is wrong with it, for the log. */
  readonly reason: string;
}

/** Any line of a link. */
export type LinkMessage =
  | AtMessage
  | HeartbeatMessage
  | HelloMessage
  | WelcomeMessage
  | AuthMessage
  | SyncMessage
  | TreeMessage
  | MalformedMessage;

/** The type of a link message. */
export type LinkMessageType = LinkMessage['type'];

/** The link message of type `K`. */
export type LinkMessageOf<K extends LinkMessageType> = Extract<LinkMessage, { type: K }>;

/** One handler per message type: a link's whole protocol in one table. */
export type LinkHandlers = { readonly [K in LinkMessageType]: (message: LinkMessageOf<K>) => void };

/** How much of a malformed line is kept for its log event. */
export const MALFORMED_LINE_BYTES = 200;

/** Fields an AT line has; the scan of a line's verb records at most this many. */
const AT_FIELDS = 6;

const HEARTBEAT: HeartbeatMessage = Object.freeze({ type: 'HEARTBEAT' });

function malformed(bytes: Buffer, start: number, end: number, reason: string): MalformedMessage {
  return {
    type: 'MALFORMED',
    line: bytes.toString('latin1', start, Math.min(end, start + MALFORMED_LINE_BYTES)),
    reason,
  };
}

/** Whether `bytes[start, end)` is the ASCII text `word`. */
function is(bytes: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * Parses one line of a link.
 *
 * @param fields - scratch for field offsets (capacity at least 6), reused across calls.
 * @param heldLine - the AT line a store holds for a client id: an AT line whose bytes are exactly
 *   that line is taken as it is, without its fields checked again (at-record.ts `heldAtRecord`).
 *   @default none: every AT line is checked
 * @returns the message; a line that is none of them is a {@link MalformedMessage} with the reason.
 *   A line that is only white space is malformed too: servers never send one.
 */
export function parseLinkMessage(
  bytes: Buffer,
  start: number,
  end: number,
  fields: FieldOffsets,
  heldLine?: (clientId: string) => string | undefined,
): LinkMessage {
  const count = scanFields(bytes, start, end, fields);
  if (count === 0) return malformed(bytes, start, end, 'empty line');
  const verbStart = fields.start(0);
  const verbEnd = fields.end(0);
  if (is(bytes, verbStart, verbEnd, 'AT')) {
    const record =
      heldLine === undefined
        ? parseAtRecord(bytes, start, end, fields)
        : heldAtRecord(bytes, start, end, fields, heldLine);
    return record === undefined
      ? malformed(bytes, start, end, 'malformed AT record')
      : { type: 'AT', atLine: record.atLine, clientId: record.clientId };
  }
  if (is(bytes, verbStart, verbEnd, HEARTBEAT_LINE)) {
    return count === 1 ? HEARTBEAT : malformed(bytes, start, end, 'HEARTBEAT takes no operands');
  }
  // The rest are a handful per link and per anti-entropy round: parsed from their text.
  const text = bytes.toString('latin1', start, end);
  if (is(bytes, verbStart, verbEnd, 'HELLO') || is(bytes, verbStart, verbEnd, 'WELCOME')) {
    const greeting = parseGreeting(text);
    if (greeting === undefined) return malformed(bytes, start, end, 'malformed greeting');
    return greeting.verb === 'HELLO' ? { type: 'HELLO', greeting } : { type: 'WELCOME', greeting };
  }
  if (is(bytes, verbStart, verbEnd, 'AUTH')) {
    const mac = parseAuth(text);
    return mac === undefined ? malformed(bytes, start, end, 'malformed AUTH') : { type: 'AUTH', mac };
  }
  const split = splitFields(text);
  const message = parseSyncMessage(split) ?? parseTreeMessage(split);
  return (
    message ?? malformed(bytes, start, end, count > AT_FIELDS ? 'unknown message' : 'unknown or malformed message')
  );
}

/** Options of a {@link LinkReader}. */
export interface LinkReaderOptions {
  /** Longest line, bytes (`limits.maxLineBytes`); a longer one calls `onOverflow` and ends the reading. */
  readonly maxLineBytes: number;
  /** Called once when a line is longer than `maxLineBytes`; the link should close. */
  readonly onOverflow: () => void;
  /**
   * The AT line held for a client id (the server's store): a flood whose bytes are exactly that line
   * is not checked again ({@link parseLinkMessage}). @default none: every AT line is checked
   */
  readonly heldLine?: (clientId: string) => string | undefined;
}

/** Reads a link: frames its bytes into lines, parses each once, and hands it to its handler. */
export class LinkReader {
  private readonly splitter: LineSplitter;
  private readonly fields = new FieldOffsets(AT_FIELDS);
  /** The line being handled, for {@link lineText}. */
  private bytes: Buffer | undefined;
  private start = 0;
  private end = 0;

  /** @param handlers - what each message means on this link. */
  constructor(handlers: LinkHandlers, options: LinkReaderOptions) {
    const splitterOptions: LineSplitterOptions = {
      maxLineBytes: options.maxLineBytes,
      onOverflow: () => options.onOverflow(),
    };
    const heldLine = options.heldLine;
    this.splitter = new LineSplitter((bytes, start, end) => {
      this.bytes = bytes;
      this.start = start;
      this.end = end;
      const message = parseLinkMessage(bytes, start, end, this.fields, heldLine);
      // The table maps each type to the handler of exactly that type, which TypeScript cannot follow
      // through an indexed access on a union; the cast restates what the table's type guarantees.
      (handlers[message.type] as (message: LinkMessage) => void)(message);
    }, splitterOptions);
  }

  /**
   * The line whose message is being handled, as text for a log event (its first
   * {@link MALFORMED_LINE_BYTES} bytes, decoded as UTF-8). Only meaningful inside a handler.
   */
  lineText(): string {
    const bytes = this.bytes;
    if (bytes === undefined) return '';
    return bytes.toString('utf8', this.start, Math.min(this.end, this.start + MALFORMED_LINE_BYTES));
  }

  /**
   * Feeds the next chunk of bytes from the link.
   *
   * @param reused - the chunk's memory is overwritten after this call (a read buffer the socket
   *   reuses); what is kept of it is copied. @default false
   */
  push(chunk: Buffer, reused = false): void {
    this.splitter.push(chunk, reused);
  }

  /** The link's input ended: a last line without terminator is read. */
  finish(): void {
    this.splitter.end();
  }
}
