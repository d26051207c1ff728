/**
 * The floor of spreading an update (docs/benchmarks.md "Scale"): a bare relay process, one per
 * server of a herd shape, linked along the tree of shortest paths from the first server, so one line
 * costs exactly N-1 messages. Each line that arrives is written on to every child connection (the
 * lines of one chunk in one write), with the product's own framing ({@link LineSplitter}); the first
 * relay also echoes each line to its sender, as a server answers an IAMAT. It is "the herd minus
 * everything the protocol means": no parsing, store, log or merge rule.
 *
 * Plain JavaScript on the built framing (`dist/`, which `npm run bench` builds first), so a relay
 * starts as a bare `node` does: the floor of `herd start` too. Run as `node bench/relay-server.mjs
 * [--echo]`, it listens on 127.0.0.1, port
 * 0, prints `listening <port>`, then reads `child <port>` lines on stdin and dials each (printing
 * `linked <port>` once connected); it runs until SIGTERM, SIGINT or stdin closes.
 */
import net from 'node:net';
import { createInterface } from 'node:readline';
import { LineSplitter } from '../dist/protocol/line-splitter.js';

const echo = process.argv.includes('--echo');
/** @type {net.Socket[]} */
const children = [];

/** @param {net.Socket} socket */
function relay(socket) {
  let output = '';
  const splitter = new LineSplitter((bytes, start, end) => {
    output += `${bytes.toString('latin1', start, end)}\n`;
  });
  socket.setNoDelay(true);
  socket.on('data', (chunk) => {
    splitter.push(chunk);
    if (output === '') return;
    for (const child of children) child.write(output, 'latin1');
    if (echo) socket.write(output, 'latin1');
    output = '';
  });
  socket.on('error', () => socket.destroy());
}

const server = net.createServer({ noDelay: true }, relay);
await new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
const stop = () => {
  for (const child of children) child.destroy();
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
createInterface({ input: process.stdin })
  .on('line', (line) => {
    const match = /^child (\d+)$/.exec(line);
    if (match === null) return;
    const port = Number(match[1]);
    const child = net.connect({ host: '127.0.0.1', port });
    child.setNoDelay(true);
    child.on('connect', () => process.stdout.write(`linked ${port}\n`));
    child.on('error', () => child.destroy());
    children.push(child);
  })
  .on('close', stop);
process.stdout.write(`listening ${/** @type {net.AddressInfo} */ (server.address()).port}\n`);
