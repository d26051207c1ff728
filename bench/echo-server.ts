/**
 * The floor of the bench: a bare line-echo server. Each line comes back as it came, one reply per
 * line, held as a binary string as the server holds its replies; the replies to one chunk go out in
 * one write. It uses the product's own framing ({@link LineSplitter}), so the floor is "the herd
 * server minus everything the protocol means" (docs/benchmarks.md "The load client").
 *
 * Run as a program (`node --import tsx bench/echo-server.ts`) it listens on 127.0.0.1, port 0, prints
 * `listening <port>` and runs until SIGTERM, SIGINT or the parent's IPC channel closes.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../src/protocol/line-splitter.js';

/** Serves one connection: echo each line, batched per chunk. */
function echo(socket: net.Socket): void {
  let output = '';
  const splitter = new LineSplitter((bytes, start, end) => {
    output += `${bytes.toString('latin1', start, end)}\n`;
  });
  socket.on('data', (chunk: Buffer) => {
    splitter.push(chunk);
    if (output !== '') {
      socket.write(output, 'latin1');
      output = '';
    }
  });
  socket.on('end', () => {
    splitter.end();
    socket.end(output, 'latin1');
  });
  socket.on('error', () => socket.destroy());
}

/** Starts an echo server on `host`, port 0; resolves with the server once it listens. */
export async function startEchoServer(host = '127.0.0.1'): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, echo);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startEchoServer();
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`);
}
