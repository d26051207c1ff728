/**
 * The messages of tree dissemination (docs/protocol.md#dissemination-flood-or-tree), as pure format
 * and parse functions; the protocol itself is src/peers/plumtree.ts. Each concerns the spanning tree
 * of one root, the server that received the IAMAT (the AT line's second field):
 *
 *     dialler   -> neighbour  IHAVE <root> <client id> <hash> [<client id> <hash> ...]
 *     neighbour -> dialler    PRUNE <root>
 *     neighbour -> dialler    GRAFT <root> [<client id> ...]
 *
 * `<hash>` is the 64-bit hash of the announced AT line (the one anti-entropy's digests sum,
 * src/store/hash.ts) in 16 lowercase hex digits. Lines and ids are binary strings
 * (src/protocol/bytes.ts).
 */
import { hash64 } from '../store/hash.js';

/** An announcement on a lazy link: the dialler holds these records of `root`'s tree. */
export interface IHaveMessage {
  readonly type: 'IHAVE';
  readonly root: string;
  /** Client ids and the hashes (16 hex digits) of their AT lines, in pairs: id, hash, id, hash, ... */
  readonly entries: readonly string[];
}

/** The neighbour got a record of `root` twice: the dialler is to announce `root`'s records lazily from now on. */
export interface PruneMessage {
  readonly type: 'PRUNE';
  readonly root: string;
}

/** The neighbour is missing records of `root`: the dialler is to push `root`'s records eagerly again, and send these clients' records. */
export interface GraftMessage {
  readonly type: 'GRAFT';
  readonly root: string;
  /** Clients whose records to send now (none when the graft only repairs the tree). */
  readonly clientIds: readonly string[];
}

/** Any tree message. */
export type TreeMessage = IHaveMessage | PruneMessage | GraftMessage;

/** Digits of a hash in an IHAVE entry. */
export const HASH_HEX_DIGITS = 16;

const HEX16 = /^[0-9a-f]{16}$/;
const scratch = new Uint32Array(2);

/** The 64-bit hash of an AT line (a binary string) as 16 lowercase hex digits: its id in an IHAVE. */
export function atLineHash(atLine: string): string {
  hash64(atLine, scratch);
  return (scratch[0] as number).toString(16).padStart(8, '0') + (scratch[1] as number).toString(16).padStart(8, '0');
}

/**
 * Whether `hash` is {@link atLineHash} of `atLine`: the same answer as `atLineHash(atLine) === hash`,
 * without building the hex string (a receiver checks every entry of every IHAVE this way).
 *
 * @param hash - as received: true only for the 16 lowercase hex digits of the line's hash.
 */
export function hasAtLineHash(atLine: string, hash: string): boolean {
  if (hash.length !== HASH_HEX_DIGITS) return false;
  hash64(atLine, scratch);
  return hexWord(hash, 0) === scratch[0] && hexWord(hash, 8) === scratch[1];
}

/** The number that the 8 lowercase hex digits of `text` from `start` spell; -1 if one is not such a digit. */
function hexWord(text: string, start: number): number {
  let value = 0;
  for (let i = start; i < start + 8; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** What one announcement takes in an IHAVE line, bytes: a space, the client id, a space and its hash. */
export function ihaveEntryBytes(clientId: string): number {
  return clientId.length + 2 + HASH_HEX_DIGITS;
}

/**
 * Formats announcements as IHAVE lines (without terminators), each at most `maxLineBytes` bytes.
 *
 * @param entries - client id, hash, client id, hash, ...: every id shorter than `maxLineBytes` by
 *   at least the root and a hash (ids are at most `limits.maxClientIdBytes`, far below).
 */
export function formatIHaveLines(root: string, entries: readonly string[], maxLineBytes: number): string[] {
  const lines: string[] = [];
  const head = `IHAVE ${root}`;
  let line = head;
  for (let i = 0; i + 1 < entries.length; i += 2) {
    const entry = ` ${entries[i] as string} ${entries[i + 1] as string}`;
    if (line.length + entry.length > maxLineBytes && line !== head) {
      lines.push(line);
      line = head;
    }
    line += entry;
  }
  if (line !== head) lines.push(line);
  return lines;
}

/** Formats a PRUNE line (without terminator). */
export function formatPrune(root: string): string {
  return `PRUNE ${root}`;
}

/**
 * Formats GRAFT lines (without terminators), each at most `maxLineBytes` bytes: one line without
 * client ids when `clientIds` is empty.
 */
export function formatGraftLines(root: string, clientIds: readonly string[], maxLineBytes: number): string[] {
  const head = `GRAFT ${root}`;
  const lines: string[] = [];
  let line = head;
  for (const clientId of clientIds) {
    if (line.length + 1 + clientId.length > maxLineBytes && line !== head) {
      lines.push(line);
      line = head;
    }
    line += ` ${clientId}`;
  }
  if (line !== head || lines.length === 0) lines.push(line);
  return lines;
}

/**
 * Parses a tree message from its fields (split on white space, binary strings).
 *
 * @returns the message, or `undefined` when the line is none, or malformed: a root missing, an
 *   IHAVE without pairs or with a hash that is not 16 lowercase hex digits, a PRUNE with more.
 */
export function parseTreeMessage(fields: readonly string[]): TreeMessage | undefined {
  const root = fields[1];
  if (root === undefined) return undefined;
  switch (fields[0]) {
    case 'IHAVE': {
      if (fields.length < 4 || fields.length % 2 !== 0) return undefined;
      const entries = fields.slice(2);
      for (let i = 1; i < entries.length; i += 2) if (!HEX16.test(entries[i] as string)) return undefined;
      return { type: 'IHAVE', root, entries };
    }
    case 'PRUNE':
      return fields.length === 2 ? { type: 'PRUNE', root } : undefined;
    case 'GRAFT':
      return { type: 'GRAFT', root, clientIds: fields.slice(2) };
    default:
      return undefined;
  }
}
