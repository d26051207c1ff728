/**
 * Bytes held in strings. The protocol is bytes (docs/protocol.md#framing): a client id is any run of
 * non-white-space bytes, compared byte for byte, and echoed exactly. Inside a server, bytes that are
 * kept (a client id, a stored AT line, a finished reply) are held as **binary strings**: JavaScript
 * strings with one character per byte, code units 0-255 (Node's `latin1` encoding). V8 keeps such a
 * string in one byte per character, so it costs what the bytes cost (a `Buffer` per client would
 * cost about a hundred bytes more), two of them are equal (`===`) exactly when their bytes are, and
 * writing it to a socket or a file with the `latin1` encoding copies its bytes unchanged. Text meant
 * for people (log fields, JSON APIs, the dashboard) decodes binary strings as UTF-8 at that edge,
 * with the functions here.
 */
import { isUtf8 } from 'node:buffer';

/** The ASCII bytes the protocol's fields are checked against (docs/protocol.md#iamat). */
export const SPACE = 0x20;
export const PLUS = 0x2b;
export const MINUS = 0x2d;
export const POINT = 0x2e;
export const ZERO = 0x30;
export const NINE = 0x39;

/** Whether a byte is an ASCII decimal digit. */
export function isDigit(code: number): boolean {
  return code >= ZERO && code <= NINE;
}

/**
 * A reply whose end is held as bytes elsewhere: `head` (a binary string) then `body`, written as they
 * are, so that a large shared answer (a WHATSAT's cached Nearby Search document) is never copied into
 * a string or encoded again. `body` must not change after it is handed over.
 */
export interface ReplyWithBody {
  readonly head: string;
  readonly body: Buffer;
}

/** The bytes of a reply: a binary string, or a {@link ReplyWithBody}. */
export type ReplyBytes = string | ReplyWithBody;

/** The binary string of `bytes[start, end)`. */
export function binaryOf(bytes: Buffer, start = 0, end = bytes.length): string {
  return bytes.toString('latin1', start, end);
}

/** The bytes of a binary string, as a new Buffer. */
export function bytesOfBinary(binary: string): Buffer {
  return Buffer.from(binary, 'latin1');
}

/** The binary string of `text` encoded as UTF-8 (e.g. a client id typed into the dashboard). */
export function binaryOfText(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Whether a binary string holds only ASCII (then it is its own UTF-8 text). */
export function isAscii(binary: string): boolean {
  for (let i = 0; i < binary.length; i++) if (binary.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * The text a binary string holds, decoded as UTF-8 (invalid sequences become U+FFFD, which only
 * matters for text shown to people: a server never compares decoded ids).
 */
export function textOfBinary(binary: string): string {
  return isAscii(binary) ? binary : Buffer.from(binary, 'latin1').toString('utf8');
}

/**
 * Whether `bytes[start, end)` is valid UTF-8 (RFC 3629). ASCII, the common case, is checked in
 * JavaScript without making a view of the bytes.
 */
export function isUtf8Bytes(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) return isUtf8(bytes.subarray(i, end));
  }
  return true;
}
