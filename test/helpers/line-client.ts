/**
 * Line clients on real sockets: a connection that collects the lines the server sends, and the
 * round trip absence checks wait on.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { exchange } from './herd-process.js';

/** A connected client: `lines` grows as the server's lines arrive. */
export interface LineClient {
  readonly socket: net.Socket;
  readonly lines: string[];
  /** Resolves when the server has ended or closed the connection. */
  readonly closed: Promise<void>;
}

/** Connects to 127.0.0.1:`port` (from `localAddress`, if given) and resolves once connected. */
export async function openLineClient(port: number, localAddress?: string): Promise<LineClient> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true });
  const lines: string[] = [];
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffer += text;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      lines.push(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
  socket.on('error', () => undefined);
  // With allowHalfOpen the socket only closes once we end too: the server is done at its 'end'.
  const closed = new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, lines, closed };
}

/**
 * A round trip through the server on a new connection: a WHATSAT for a client id nobody has, which
 * every server answers with `? ` at once, without a look-up or a commit. When it resolves, the server
 * has handled what reached it before, and anything it wrote then has reached this process: the
 * positive signal after which an absence check may look.
 */
export async function roundTrip(port: number): Promise<void> {
  const line = 'WHATSAT round-trip-marker 1 1';
  assert.equal(await exchange(port, `${line}\n`), `? ${line}\n`);
}
