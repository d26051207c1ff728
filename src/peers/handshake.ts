/**
 * The link handshake, as pure functions of lines (docs/protocol.md "Links"). A link is a TCP
 * connection that one server dials to a neighbour's peer port. With a herd secret the handshake is a
 * mutual challenge-response:
 *
 *     dialler -> neighbour   HELLO <dialler name> <incarnation> <nonce D>
 *     neighbour -> dialler   WELCOME <neighbour name> <incarnation> <nonce N> <MAC of the welcome>
 *     dialler -> neighbour   AUTH <MAC of the hello>
 *
 * Each MAC is HMAC-SHA256 under the herd secret over both names, both nonces and the sender's
 * incarnation, so it proves knowledge of the secret, is bound to the configured names, and cannot be
 * replayed: each side checks a MAC over the fresh nonce it just chose. Without a secret (development
 * mode) nonces and MACs are left out and no AUTH is sent.
 *
 * Both sides of the product use these functions (src/peers/outgoing-link.ts dials,
 * src/peers/incoming-link.ts accepts), and so does the bench's observer, so a change to the
 * handshake has one place to follow.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { splitFields } from '../protocol/fields.js';

/** Who a server is in a handshake. */
export interface LinkIdentity {
  /** The server's name. */
  readonly name: string;
  /** Token that changes at every start of the server. */
  readonly incarnation: string;
  /** The herd secret; `undefined` in development mode (links not authenticated). */
  readonly secret: Buffer | undefined;
}

/** A parsed HELLO or WELCOME. */
export interface Greeting {
  readonly verb: 'HELLO' | 'WELCOME';
  /** The sending server's name. */
  readonly serverName: string;
  /** The sending server's incarnation. */
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
  const [verb, serverName, incarnation, nonce, mac] = fields;
  if (serverName === undefined || incarnation === undefined) return undefined;
  if (verb === 'HELLO') {
    if (fields.length === 3) return { verb, serverName, incarnation };
    if (fields.length === 4 && TOKEN.test(nonce as string)) return { verb, serverName, incarnation, nonce };
    return undefined;
  }
  if (verb === 'WELCOME') {
    if (fields.length === 3) return { verb, serverName, incarnation };
    if (fields.length === 5 && TOKEN.test(nonce as string) && TOKEN.test(mac as string)) {
      return { verb, serverName, incarnation, nonce, mac };
    }
  }
  return undefined;
}

/** The MAC of an `AUTH <mac>` line, or `undefined` for any other line. */
export function parseAuth(line: string): string | undefined {
  const fields = splitFields(line);
  return fields.length === 2 && fields[0] === 'AUTH' && TOKEN.test(fields[1] as string) ? fields[1] : undefined;
}

// --- The dialler's side ---

/** What the dialler sends first, and the challenge it must remember. */
export interface HelloOffer {
  /** The HELLO line, with terminator. */
  readonly line: string;
  /** The dialler's challenge, when it has a secret. */
  readonly nonce: string | undefined;
}

/** The HELLO a dialler opens a link with (a fresh challenge when it has a secret). */
export function offerHello(self: LinkIdentity): HelloOffer {
  const nonce = self.secret === undefined ? undefined : newNonce();
  return { line: formatHello(self.name, self.incarnation, nonce), nonce };
}

/** The dialler's verdict on the neighbour's answer. */
export type WelcomeCheck =
  | {
      readonly ok: true;
      /** The neighbour's incarnation. */
      readonly incarnation: string;
      /** The AUTH line to send (with terminator) when the herd has a secret. */
      readonly authLine: string | undefined;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks the greeting a neighbour answered a HELLO with.
 *
 * @param greeting - the neighbour's first line, parsed ({@link parseGreeting}); `undefined` when it
 *   was no greeting at all.
 * @param self - the dialler.
 * @param peerName - the neighbour the dialler meant to reach: the WELCOME must carry that name.
 * @param offer - what {@link offerHello} returned for this connection.
 */
export function checkWelcome(
  greeting: Greeting | undefined,
  self: LinkIdentity,
  peerName: string,
  offer: HelloOffer,
): WelcomeCheck {
  if (greeting?.verb !== 'WELCOME') return { ok: false, reason: 'not a WELCOME' };
  if (greeting.serverName !== peerName)
    return { ok: false, reason: `WELCOME from ${greeting.serverName}, not ${peerName}` };
  if (self.secret === undefined || offer.nonce === undefined) {
    return { ok: true, incarnation: greeting.incarnation, authLine: undefined };
  }
  if (greeting.nonce === undefined || greeting.mac === undefined) {
    return { ok: false, reason: 'neighbour has no herd secret' };
  }
  const expected = handshakeMac(
    self.secret,
    'WELCOME',
    peerName,
    self.name,
    offer.nonce,
    greeting.nonce,
    greeting.incarnation,
  );
  // A WELCOME MAC that does not check out: the neighbour holds another secret (or is not the neighbour).
  if (!macsEqual(expected, greeting.mac)) return { ok: false, reason: 'bad MAC' };
  const mac = handshakeMac(self.secret, 'AUTH', self.name, peerName, greeting.nonce, offer.nonce, self.incarnation);
  return { ok: true, incarnation: greeting.incarnation, authLine: formatAuth(mac) };
}

// --- The accepting side ---

/** The accepting side's verdict on a first line. */
export type HelloAnswer =
  | {
      readonly ok: true;
      /** The dialler's name. */
      readonly peerName: string;
      /** The dialler's incarnation. */
      readonly incarnation: string;
      /** The WELCOME line to write, with terminator. */
      readonly reply: string;
      /** With a secret: the MAC the dialler's AUTH line must carry before any of its lines counts. */
      readonly expectedAuthMac: string | undefined;
    }
  | { readonly ok: false; readonly reason: string; readonly peerName?: string };

/**
 * Answers the first line of a connection to the peer port.
 *
 * @param greeting - the connection's first line, parsed ({@link parseGreeting}); `undefined` when it
 *   was no greeting at all.
 * @param self - the accepting server.
 * @param isNeighbour - whether a server of that name may link to this one.
 * @returns the WELCOME to send, or why the line is refused (not a HELLO; not a neighbour; no
 *   challenge though this herd has a secret).
 */
export function answerHello(
  greeting: Greeting | undefined,
  self: LinkIdentity,
  isNeighbour: (name: string) => boolean,
): HelloAnswer {
  if (greeting?.verb !== 'HELLO') return { ok: false, reason: 'first line is not a HELLO' };
  const { serverName: peerName, incarnation, nonce } = greeting;
  if (!isNeighbour(peerName)) return { ok: false, reason: 'not a neighbour', peerName };
  if (self.secret === undefined) {
    return {
      ok: true,
      peerName,
      incarnation,
      reply: formatWelcome(self.name, self.incarnation),
      expectedAuthMac: undefined,
    };
  }
  if (nonce === undefined) return { ok: false, reason: 'no challenge, but this herd has a secret', peerName };
  const ownNonce = newNonce();
  const mac = handshakeMac(self.secret, 'WELCOME', self.name, peerName, nonce, ownNonce, self.incarnation);
  return {
    ok: true,
    peerName,
    incarnation,
    reply: formatWelcome(self.name, self.incarnation, { nonce: ownNonce, mac }),
    expectedAuthMac: handshakeMac(self.secret, 'AUTH', peerName, self.name, ownNonce, nonce, incarnation),
  };
}

/**
 * True when `mac` (from an `AUTH` line, {@link parseAuth}; `undefined` when the line was no AUTH) is
 * the one {@link answerHello} asked for.
 */
export function checkAuth(mac: string | undefined, expectedAuthMac: string): boolean {
  return mac !== undefined && macsEqual(expectedAuthMac, mac);
}
