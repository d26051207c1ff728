/**
 * Test helpers that talk to a server over TCP as a client would: one exchange (write, half-close,
 * read to the close), and a server's table read through WHATSAT. Every socket is closed on return.
 */
import net from 'node:net';

/**
 * Opens a connection, writes `data`, half-closes, and returns everything the server sent until it
 * closed. Rejects if the server does not close within `timeoutMs`.
 */
export async function exchange(
  port: number,
  data: string | Buffer | (string | Buffer)[],
  timeoutMs = 10_000,
  encoding: BufferEncoding = 'utf8',
): Promise<string> {
  const chunks = Array.isArray(data) ? data : [data];
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no close from port ${port} within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(received).toString())}`,
        ),
      );
    }, timeoutMs);
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      socket.end();
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received).toString(encoding));
    });
  });
}

/** The stored AT line a server answers WHATSAT with, or undefined when it answers `?`. */
export async function atLineAt(port: number, clientId: string): Promise<string | undefined> {
  const reply = await exchange(port, `WHATSAT ${clientId} 1 1\n`);
  return reply.startsWith('AT ') ? reply.slice(0, reply.indexOf('\n')) : undefined;
}

/**
 * Reads what a server holds for each client id, by pipelining `WHATSAT <id> 0.001 1` for all of
 * them on one connection.
 *
 * @returns client id -> stored AT line (absent when the server answered `?`).
 */
export async function readTable(port: number, clientIds: readonly string[]): Promise<Map<string, string>> {
  return parseWhatsatReplies(await exchange(port, whatsatLines(clientIds), 30_000), clientIds);
}

/** One `WHATSAT <id> 0.001 1` line per client id: the request of {@link readTable}. */
export function whatsatLines(clientIds: readonly string[]): string {
  return clientIds.map((id) => `WHATSAT ${id} 0.001 1\n`).join('');
}

/**
 * Reads the replies to {@link whatsatLines} for `clientIds`, in order.
 *
 * @returns client id -> stored AT line (absent when the server answered `?`).
 */
export function parseWhatsatReplies(reply: string, clientIds: readonly string[]): Map<string, string> {
  const table = new Map<string, string>();
  let position = 0;
  let index = 0;
  while (position < reply.length && index < clientIds.length) {
    const newline = reply.indexOf('\n', position);
    const line = reply.slice(position, newline);
    const clientId = clientIds[index++] as string;
    if (line.startsWith('? ')) {
      position = newline + 1;
      continue;
    }
    table.set(clientId, line);
    const end = reply.indexOf('\n\n', newline);
    position = end + 2;
  }
  return table;
}
