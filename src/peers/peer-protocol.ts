/**
 * Lines of the server-to-server protocol (PROTOCOL.md section 3; docs/operations.md "Between
 * servers"). A link is a TCP connection dialled by one server to a neighbour. With a herd secret
 * (docs/operations.md "Limits and security") the handshake is a mutual challenge-response:
 *
 *     dialler -> neighbour   HELLO <dialler name> <incarnation> <nonce D>
 *     neighbour -> dialler   WELCOME <neighbour name> <incarnation> <nonce N> <MAC of the welcome>
 *     dialler -> neighbour   AUTH <MAC of the hello>
 *     dialler -> neighbour   AT <server> <time difference> <client id> <location> <time>   (floods)
 *
 * Each MAC is HMAC-SHA256 under the herd secret over both names, both nonces and the sender's
 * incarnation, so it proves knowledge of the secret, is bound to the configured names, and cannot be
 * replayed: each side checks a MAC over the fresh nonce it just chose. Without a secret (development
 * mode) nonces and MACs are left out and no AUTH is sent.
 *
 * Each server dials every neighbour, so a link between two servers is two connections, one per
 * flooding direction.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { splitFields } from '../protocol/fields.js';

/** A parsed HELLO or WELCOME. */
export interface Greeting {
  readonly verb: 'HELLO' | 'WELCOME';
  /** The sending server's name. */
  readonly serverName: string;
  /** The sending server's incarnation: an opaque token that changes at every start. */
  readonly incarnation: string;
  /** The sender's challenge (hex), present when the sender has a herd secret. */
  readonly nonce?: string;
  /** WELCOME only: the neighbour's MAC (hex), present when it has a herd secret. */
  readonly mac?: string;
}

/** Bytes of randomness in a handshake nonce. */
export const NONCE_BYTES = 16;
const TOKEN = /^[0-9a-f]{32,128}$/;

/** A fresh random nonce, hex. */
export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('hex');
}

/**
 * The MAC of one side of a handshake: HMAC-SHA256(secret, `herd-link-v1|<role>|<from>|<to>|<nonce of
 * the other side>|<own nonce>|<own incarnation>`), hex.
 *
 * @param role - `WELCOME` for the neighbour's MAC, `AUTH` for the dialler's.
 */
export function handshakeMac(
  secret: Buffer,
  role: 'WELCOME' | 'AUTH',
  from: string,
  to: string,
  theirNonce: string,
  ownNonce: string,
  incarnation: string,
): string {
  return createHmac('sha256', secret)
    .update(`herd-link-v1|${role}|${from}|${to}|${theirNonce}|${ownNonce}|${incarnation}`)
    .digest('hex');
}

/** Compares two hex MACs in constant time. */
export function macsEqual(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `HELLO <server name> <incarnation> [<nonce>]`, with terminator. */
export function formatHello(serverName: string, incarnation: string, nonce?: string): string {
  return nonce === undefined ? `HELLO ${serverName} ${incarnation}\n` : `HELLO ${serverName} ${incarnation} ${nonce}\n`;
}

/** `WELCOME <server name> <incarnation> [<nonce> <mac>]`, with terminator. */
export function formatWelcome(serverName: string, incarnation: string, auth?: { nonce: string; mac: string }): string {
  return auth === undefined
    ? `WELCOME ${serverName} ${incarnation}\n`
    : `WELCOME ${serverName} ${incarnation} ${auth.nonce} ${auth.mac}\n`;
}

/** `AUTH <mac>`, with terminator. */
export function formatAuth(mac: string): string {
  return `AUTH ${mac}\n`;
}

/** Parses a HELLO or WELCOME line; `undefined` for anything else. */
export function parseGreeting(line: string): Greeting | undefined {
  const fields = splitFields(line);
  const verb = fields[0];
  if (verb === 'HELLO') {
    if (fields.length === 3) return { verb, serverName: fields[1] as string, incarnation: fields[2] as string };
    if (fields.length === 4 && TOKEN.test(fields[3] as string))
      return { verb, serverName: fields[1] as string, incarnation: fields[2] as string, nonce: fields[3] as string };
    return undefined;
  }
  if (verb === 'WELCOME') {
    if (fields.length === 3) return { verb, serverName: fields[1] as string, incarnation: fields[2] as string };
    if (fields.length === 5 && TOKEN.test(fields[3] as string) && TOKEN.test(fields[4] as string)) {
      return {
        verb,
        serverName: fields[1] as string,
        incarnation: fields[2] as string,
        nonce: fields[3] as string,
        mac: fields[4] as string,
      };
    }
  }
  return undefined;
}

/** The MAC of an `AUTH <mac>` line, or `undefined` for any other line. */
export function parseAuth(line: string): string | undefined {
  const fields = splitFields(line);
  return fields.length === 2 && fields[0] === 'AUTH' && TOKEN.test(fields[1] as string) ? fields[1] : undefined;
}

/*
 * Anti-entropy (docs/operations.md, "Anti-entropy"). On the dialler's connection, whenever the link
 * comes up and then periodically, the dialler offers its digest and the neighbour asks for the
 * buckets where the two differ:
 *
 *     dialler -> neighbour   SYNC <sync id> <buckets>
 *     dialler -> neighbour   SUMS <sync id> <first bucket> <16 hex digits> ...   (up to 128 per line)
 *     dialler -> neighbour   SUMS-END <sync id>
 *     neighbour -> dialler   WANT <sync id> <bucket> ...                         (up to 256 per line)
 *     neighbour -> dialler   WANT-END <sync id>
 *     dialler -> neighbour   AT ... (every record of the wanted buckets), then SYNCED <sync id> <records>
 */

/** Bucket sums per SUMS line. */
export const SUMS_PER_LINE = 128;
/** Bucket numbers per WANT line. */
export const WANTS_PER_LINE = 256;

/** Formats a digest as `SYNC`, `SUMS` and `SUMS-END` lines, without terminators. */
export function formatDigestLines(
  syncId: number,
  digest: { buckets: number; high: Uint32Array; low: Uint32Array },
): string[] {
  const lines = [`SYNC ${syncId} ${digest.buckets}`];
  for (let start = 0; start < digest.buckets; start += SUMS_PER_LINE) {
    const end = Math.min(digest.buckets, start + SUMS_PER_LINE);
    const parts: string[] = ['SUMS', String(syncId), String(start)];
    for (let i = start; i < end; i++) {
      parts.push(
        (digest.high[i] as number).toString(16).padStart(8, '0') +
          (digest.low[i] as number).toString(16).padStart(8, '0'),
      );
    }
    lines.push(parts.join(' '));
  }
  lines.push(`SUMS-END ${syncId}`);
  return lines;
}

/** Formats the WANT reply to a digest: `WANT` lines and `WANT-END`, without terminators. */
export function formatWantLines(syncId: number, wanted: readonly number[]): string[] {
  const lines: string[] = [];
  for (let start = 0; start < wanted.length; start += WANTS_PER_LINE) {
    lines.push(`WANT ${syncId} ${wanted.slice(start, start + WANTS_PER_LINE).join(' ')}`);
  }
  lines.push(`WANT-END ${syncId}`);
  return lines;
}

/** Any anti-entropy message, parsed. */
export type SyncMessage =
  | { readonly verb: 'SYNC'; readonly syncId: number; readonly buckets: number }
  | {
      readonly verb: 'SUMS';
      readonly syncId: number;
      readonly start: number;
      readonly high: number[];
      readonly low: number[];
    }
  | { readonly verb: 'SUMS-END'; readonly syncId: number }
  | { readonly verb: 'WANT'; readonly syncId: number; readonly buckets: number[] }
  | { readonly verb: 'WANT-END'; readonly syncId: number }
  | { readonly verb: 'SYNCED'; readonly syncId: number; readonly records: number };

const UINT = /^\d{1,10}$/;
const HEX16 = /^[0-9a-f]{16}$/;

function uint(text: string | undefined): number | undefined {
  return text !== undefined && UINT.test(text) ? Number(text) : undefined;
}

/**
 * Parses an anti-entropy line.
 *
 * @returns the message, or `undefined` when the line is not a well-formed one (bucket counts must be
 *   powers of two up to 65,536).
 */
export function parseSyncMessage(fields: readonly string[]): SyncMessage | undefined {
  const syncId = uint(fields[1]);
  if (syncId === undefined) return undefined;
  switch (fields[0]) {
    case 'SYNC': {
      const buckets = uint(fields[2]);
      if (
        fields.length !== 3 ||
        buckets === undefined ||
        buckets < 1 ||
        buckets > 65536 ||
        (buckets & (buckets - 1)) !== 0
      )
        return undefined;
      return { verb: 'SYNC', syncId, buckets };
    }
    case 'SUMS': {
      const start = uint(fields[2]);
      if (start === undefined || fields.length < 4) return undefined;
      const high: number[] = [];
      const low: number[] = [];
      for (let i = 3; i < fields.length; i++) {
        const hex = fields[i] as string;
        if (!HEX16.test(hex)) return undefined;
        high.push(Number.parseInt(hex.slice(0, 8), 16));
        low.push(Number.parseInt(hex.slice(8), 16));
      }
      return { verb: 'SUMS', syncId, start, high, low };
    }
    case 'WANT': {
      const buckets: number[] = [];
      for (let i = 2; i < fields.length; i++) {
        const bucket = uint(fields[i]);
        if (bucket === undefined) return undefined;
        buckets.push(bucket);
      }
      return { verb: 'WANT', syncId, buckets };
    }
    case 'SUMS-END':
    case 'WANT-END':
      return fields.length === 2 ? { verb: fields[0], syncId } : undefined;
    case 'SYNCED': {
      const records = uint(fields[2]);
      return fields.length === 3 && records !== undefined ? { verb: 'SYNCED', syncId, records } : undefined;
    }
    default:
      return undefined;
  }
}
