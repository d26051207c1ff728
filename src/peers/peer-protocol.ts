/**
 * Lines of the server-to-server protocol (PROTOCOL.md section 3; docs/operations.md "Between
 * servers"). A link is a TCP connection dialled by one server to a neighbour:
 *
 *     dialler -> neighbour   HELLO <dialler name> <incarnation>
 *     neighbour -> dialler   WELCOME <neighbour name> <incarnation>
 *     dialler -> neighbour   AT <server> <time difference> <client id> <location> <time>   (floods)
 *
 * Each server dials every neighbour, so a link between two servers is two connections, one per
 * flooding direction.
 */
import { splitFields } from '../protocol/fields.js';

/** A parsed HELLO or WELCOME. */
export interface Greeting {
  readonly verb: 'HELLO' | 'WELCOME';
  /** The sending server's name. */
  readonly serverName: string;
  /** The sending server's incarnation: an opaque token that changes at every start. */
  readonly incarnation: string;
}

/** `HELLO <server name> <incarnation>`, with terminator. */
export function formatHello(serverName: string, incarnation: string): string {
  return `HELLO ${serverName} ${incarnation}\n`;
}

/** `WELCOME <server name> <incarnation>`, with terminator. */
export function formatWelcome(serverName: string, incarnation: string): string {
  return `WELCOME ${serverName} ${incarnation}\n`;
}

/** Parses a HELLO or WELCOME line; `undefined` for anything else. */
export function parseGreeting(line: string): Greeting | undefined {
  const fields = splitFields(line);
  if (fields.length !== 3) return undefined;
  const verb = fields[0];
  if (verb !== 'HELLO' && verb !== 'WELCOME') return undefined;
  return { verb, serverName: fields[1] as string, incarnation: fields[2] as string };
}
