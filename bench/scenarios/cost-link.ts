/**
 * The cost scenario's link side (./cost.ts): the bench plays neighbour `Peer` of a server, dials its
 * peer port, passes the handshake, and sends it AT lines the way a neighbour floods them.
 */
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { HEARTBEAT_TEXT } from '../../src/peers/failure-detector.js';
import { checkWelcome, offerHello, parseGreeting, type LinkIdentity } from '../../src/peers/handshake.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import { freeLoopbackPort, sleep, type ServeHandle } from '../bench-processes.js';
import type { LoadTarget } from '../load-client.js';

/** AT lines per write of the bench's neighbour (one TCP chunk of about 50 KB). */
const FLOOD_LINES_PER_WRITE = 512;

/** Sends `text` and resolves once it is all handed to the kernel. */
function writeAll(socket: net.Socket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(text, (error) => (error === undefined || error === null ? resolve() : reject(error)));
  });
}

/**
 * The bench playing neighbour `Peer`: dials `server`'s peer port, passes the handshake, and from then
 * on writes a heartbeat every `peer.heartbeatIntervalMs` until the socket closes, as a neighbour
 * does (docs/protocol.md#heartbeats): the server cuts a link it hears nothing on for
 * `peer.deadAfterMs` (5 s), and the figures between two floods (the echo, IAMATs, WHATSATs) can take
 * longer than that.
 */
export async function dialAsNeighbour(server: ServeHandle, self: LinkIdentity): Promise<net.Socket> {
  const socket = net.connect({ host: server.peer.host, port: server.peer.port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const offer = offerHello(self);
  const welcome = await new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const newline = text.indexOf('\n');
      if (newline === -1) return;
      socket.off('data', onData);
      resolve(text.slice(0, newline));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(offer.line);
  });
  const verdict = checkWelcome(parseGreeting(welcome), self, server.name, offer);
  if (!verdict.ok) throw new BenchError(`cost: ${server.name} refused the bench's handshake: ${verdict.reason}`);
  if (verdict.authLine !== undefined) socket.write(verdict.authLine);
  socket.resume();
  const heartbeats = setInterval(() => socket.write(HEARTBEAT_TEXT), DEFAULT_LINK_SETTINGS.heartbeatIntervalMs);
  // A flood's write that fails says so to its own callback ({@link flood}); the heartbeats just stop.
  socket.on('error', () => clearInterval(heartbeats));
  socket.once('close', () => clearInterval(heartbeats));
  return socket;
}

/** Resolves once `server` answers a WHATSAT for `clientId` with its AT line (the flood before it was taken). */
async function whenKnown(server: LoadTarget, clientId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: server.host, port: server.port, allowHalfOpen: true });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.end(`WHATSAT ${clientId} 0.001 1\n`));
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    if (reply.startsWith('AT ')) return;
    if (performance.now() > deadline) throw new BenchError(`cost: ${clientId} did not arrive within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Sends `lines` over the link in chunks, then a marker update, and waits until the server has taken it. */
export async function flood(
  link: net.Socket,
  server: ServeHandle,
  lines: readonly string[],
  marker: string,
): Promise<void> {
  for (let start = 0; start < lines.length; start += FLOOD_LINES_PER_WRITE) {
    await writeAll(link, `${lines.slice(start, start + FLOOD_LINES_PER_WRITE).join('\n')}\n`);
  }
  await writeAll(link, `AT Peer +0.000000001 ${marker} +1+1 1700000000\n`);
  await whenKnown(server, marker);
}

/**
 * Writes a one-server config (optionally with an external neighbour that never listens), logging at
 * `context.logLevel`; `durable: false` keeps its table in memory only (bench/cost-ablation.ts).
 */
export async function writeCostConfig(
  dir: string,
  name: string,
  context: Pick<BenchContext, 'logLevel'>,
  neighbour: boolean,
  durable = true,
): Promise<string> {
  const servers: Record<string, unknown>[] = [{ name, host: '127.0.0.1', port: 0, peerPort: 0 }];
  if (neighbour) {
    const port = await freeLoopbackPort();
    servers.push({ name: 'Peer', host: '127.0.0.1', port, peerPort: await freeLoopbackPort(), external: true });
  }
  const file = path.join(dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      servers,
      links: neighbour ? [[name, 'Peer']] : [],
      logDir: path.join(dir, 'logs'),
      dataDir: path.join(dir, 'data'),
      logLevel: context.logLevel,
      store: { durable },
    }),
  );
  return file;
}

/**
 * `count` AT lines of new clients `<prefix><n>` from neighbour `Peer`, at the location of the
 * protocol's example, client times `seconds` plus n nanoseconds (distinct and in order).
 */
export function floodLinesOf(prefix: string, count: number, seconds: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `AT Peer +0.000000001 ${prefix}${i} +34.068930-118.445127 ${seconds}.${String(i).padStart(9, '0')}`,
  );
}
