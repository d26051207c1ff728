/**
 * The floor of an idle server's CPU (docs/benchmarks.md "Cost per operation", `idle_cpu_percent`):
 * a bare `node` process that does only the I/O of an idle member of the shipped herd, nothing else.
 * A member there has two links, each two TCP connections (one per flooding direction), and on an
 * idle link each side writes a heartbeat line (`HEARTBEAT`, 10 bytes with its LF) on both
 * connections at each whole second of the wall clock, and reads the neighbour's (docs/operations.md
 * "Between servers"): four writes and four reads a second. Two of these processes, one dialling
 * the other, do exactly that: each writes `HEARTBEAT\n` on its connections at each whole second
 * (one timer, re-armed for the next whole second), and reads and drops what arrives.
 *
 * Plain JavaScript, no imports of the product. Run as `node bench/heartbeat-floor.mjs`: it listens on
 * 127.0.0.1, port 0, and prints `listening <port>`; a `dial <port> <connections>` line on stdin
 * makes it open that many connections to another one (printing `dialled <port>` once all are up).
 * It runs until SIGTERM, SIGINT or stdin closes.
 */
import net from 'node:net';
import { createInterface } from 'node:readline';

/** The heartbeat line as a link writes it (src/peers/failure-detector.ts `HEARTBEAT_TEXT`). */
const HEARTBEAT = 'HEARTBEAT\n';
/** The heartbeat interval of the shipped settings, ms (src/peers/link-settings.ts). */
const INTERVAL_MS = 1000;

/** @type {net.Socket[]} */
const sockets = [];

/** @param {net.Socket} socket */
function keep(socket) {
  socket.setNoDelay(true);
  socket.on('data', () => undefined);
  socket.on('error', () => socket.destroy());
  sockets.push(socket);
}

function tick() {
  for (const socket of sockets) if (!socket.destroyed) socket.write(HEARTBEAT);
  setTimeout(tick, INTERVAL_MS - (Date.now() % INTERVAL_MS));
}

const server = net.createServer(keep);
server.listen({ host: '127.0.0.1', port: 0 }, () => {
  process.stdout.write(`listening ${/** @type {net.AddressInfo} */ (server.address()).port}\n`);
  setTimeout(tick, INTERVAL_MS - (Date.now() % INTERVAL_MS));
});

createInterface({ input: process.stdin }).on('line', (line) => {
  const [verb, port, count] = line.split(' ');
  if (verb !== 'dial') return;
  let open = 0;
  for (let i = 0; i < Number(count); i++) {
    const socket = net.connect({ host: '127.0.0.1', port: Number(port) }, () => {
      open++;
      if (open === Number(count)) process.stdout.write(`dialled ${port}\n`);
    });
    keep(socket);
  }
});
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
