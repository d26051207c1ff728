/**
 * The bench's observer: an in-process listener that plays an extra, external member of the herd
 * (`{ "name": "Observer", ..., "external": true }`, linked to every server). Each server dials it,
 * greets it on its peer port (HELLO, and with a herd secret the HMAC challenge-response, answered
 * with the product's own src/peers/handshake.ts) and, like any neighbour, sends it every update the
 * server stores, right after the store (src/peers/links.ts `flood`). So "the observer received client X's AT line from server
 * S" is, within one flush and one loopback hop, "S stored X" (docs/benchmarks.md, "Propagation").
 *
 * It answers the anti-entropy offer (SYNC, SUMS, SUMS-END) with an empty `WANT-END`, so it never
 * asks for records, and ignores `SYNCED`. Like any neighbour it writes a heartbeat every
 * `heartbeatIntervalMs` (src/peers/failure-detector.ts), so the servers' failure detectors keep its
 * links up however long it has nothing else to say. AT lines are read on the raw bytes: only the client id is
 * looked at, and only when it is the bench's `<prefix><number>` form.
 */
import { formatWantLines, parseSyncMessage } from '../src/peers/anti-entropy-messages.js';
import net from 'node:net';
import { HEARTBEAT_TEXT } from '../src/peers/failure-detector.js';
import {
  answerHello,
  checkAuth,
  parseAuth,
  parseGreeting,
  type HelloAnswer,
  type LinkIdentity,
} from '../src/peers/handshake.js';
import { DEFAULT_LINK_SETTINGS } from '../src/peers/link-settings.js';
import { splitFields } from '../src/protocol/fields.js';

/** The observer's default server name in the bench's herd config. */
export const OBSERVER_NAME = 'Observer';

/** What the observer knows about one server that linked to it. */
export interface ObservedServer {
  readonly name: string;
  /** Its position in {@link HerdObserver.servers}' insertion order, 0-based. */
  readonly index: number;
  /** AT lines received from it, over all its connections. */
  atLines: number;
  /** AT lines received on its current connection (reset when it re-dials, e.g. after a restart). */
  atLinesThisConnection: number;
  /** Connections it opened (greetings answered). */
  connections: number;
  /** `performance.now()` of its latest greeting. */
  connectedAtMs: number;
}

const LF = 0x0a;
const SPACE = 0x20;
const A = 0x41;
const T = 0x54;

/** A listener that stands in for an external herd member and watches the floods it is sent. */
export class HerdObserver {
  readonly name: string;
  readonly incarnation = `bench-${Date.now()}`;
  /** Servers that greeted it, by name. */
  readonly servers = new Map<string, ObservedServer>();
  /**
   * Called for every AT line with the sending server, the number in the client id when it is
   * `<trackedPrefix><digits>` (else -1), and the receive time (`performance.now()`, once per chunk).
   */
  onAt: ((server: ObservedServer, clientNumber: number, nowMs: number) => void) | undefined;
  /** The one-character prefix of client ids whose number {@link onAt} gets. @default 'h' */
  trackedPrefix = 'h';
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly identity: LinkIdentity;

  private constructor(server: net.Server, name: string, secret: Buffer | undefined) {
    this.server = server;
    this.name = name;
    this.identity = { name, incarnation: this.incarnation, secret };
    server.on('connection', (socket) => this.accept(socket));
  }

  /**
   * Listens on `host:port` (port 0 for any free one; read it back from {@link port}).
   *
   * @param secret - the herd secret the servers authenticate links with, if any.
   * @throws the `listen` error (e.g. `EADDRINUSE` for a configured port that is taken).
   */
  static async listen(
    options: { host?: string; port?: number; name?: string; secret?: Buffer } = {},
  ): Promise<HerdObserver> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    const server = net.createServer({ noDelay: true });
    const observer = new HerdObserver(server, options.name ?? OBSERVER_NAME, options.secret);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return observer;
  }

  /** The port it listens on. */
  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** AT lines received from `name` (0 before it linked). */
  atLinesFrom(name: string): number {
    return this.servers.get(name)?.atLines ?? 0;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let server: ObservedServer | undefined;
    let pending: Extract<HelloAnswer, { ok: true }> | undefined;
    let partial: Buffer | undefined;
    // A heartbeat every interval once linked (not only when idle: simpler here than tracking writes).
    const heartbeat = setInterval(() => {
      if (server !== undefined) socket.write(HEARTBEAT_TEXT);
    }, DEFAULT_LINK_SETTINGS.heartbeatIntervalMs);
    socket.on('close', () => clearInterval(heartbeat));
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      const data = partial === undefined ? chunk : Buffer.concat([partial, chunk]);
      partial = undefined;
      let start = 0;
      let newline = data.indexOf(LF);
      while (newline !== -1) {
        if (server !== undefined && data[start] === A && data[start + 1] === T && data[start + 2] === SPACE) {
          this.onAtLine(server, data, start, newline, now);
        } else {
          const line = data.toString('utf8', start, newline);
          if (server === undefined) {
            if (pending === undefined) {
              // The first line: HELLO, answered as any neighbour would (every server may link to the observer).
              const answer = answerHello(parseGreeting(line), this.identity, () => true);
              if (!answer.ok) {
                socket.destroy();
                return;
              }
              pending = answer;
              socket.write(answer.reply);
              if (answer.expectedAuthMac === undefined) server = this.linked(answer.peerName, now);
            } else {
              // With a secret, the second line: AUTH.
              if (!checkAuth(parseAuth(line), pending.expectedAuthMac as string)) {
                socket.destroy();
                return;
              }
              server = this.linked(pending.peerName, now);
            }
          } else {
            this.onControlLine(socket, line);
          }
        }
        start = newline + 1;
        newline = data.indexOf(LF, start);
      }
      if (start < data.length) partial = Buffer.from(data.subarray(start));
    });
  }

  /** A server's link is up: count the connection. */
  private linked(serverName: string, now: number): ObservedServer {
    let server = this.servers.get(serverName);
    if (server === undefined) {
      server = {
        name: serverName,
        index: this.servers.size,
        atLines: 0,
        atLinesThisConnection: 0,
        connections: 0,
        connectedAtMs: now,
      };
      this.servers.set(server.name, server);
    }
    server.connections++;
    server.atLinesThisConnection = 0;
    server.connectedAtMs = now;
    return server;
  }

  /** `AT <server> <time difference> <client id> ...`: counts it and reads the client id's number. */
  private onAtLine(server: ObservedServer, data: Buffer, start: number, end: number, now: number): void {
    server.atLines++;
    server.atLinesThisConnection++;
    const onAt = this.onAt;
    if (onAt === undefined) return;
    // Flooded AT lines are written with single spaces (src/protocol/at-record.ts).
    let at = start + 3;
    for (let spaces = 0; spaces < 2 && at < end; at++) if (data[at] === SPACE) spaces++;
    let clientNumber = -1;
    if (data[at] === this.trackedPrefix.charCodeAt(0)) {
      let n = 0;
      let digits = 0;
      for (at++; at < end && data[at] !== SPACE; at++) {
        const digit = (data[at] as number) - 0x30;
        if (digit < 0 || digit > 9) {
          digits = 0;
          break;
        }
        n = n * 10 + digit;
        digits++;
      }
      if (digits > 0) clientNumber = n;
    }
    onAt(server, clientNumber, now);
  }

  /** Anti-entropy offers are declined: the observer wants nothing (an empty WANT list). */
  private onControlLine(socket: net.Socket, line: string): void {
    const fields = splitFields(line);
    if (fields[0] !== 'SUMS-END') return;
    const message = parseSyncMessage(fields);
    if (message !== undefined) socket.write(`${formatWantLines(message.syncId, []).join('\n')}\n`);
  }

  /** Stops listening and closes every link. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
