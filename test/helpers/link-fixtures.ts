/**
 * What the link tests share: two identities without a secret, a dialling link to "Friend" and an
 * accepted one, with hand-moved timers, and a fake "Friend" listening on 127.0.0.1 to be dialled.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { exponentialBackoff } from '../../src/peers/backoff.js';
import { answerHello, parseGreeting, type LinkIdentity } from '../../src/peers/handshake.js';
import { IncomingLink, type IncomingLinkOptions } from '../../src/peers/incoming-link.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { OutgoingLink, type OutgoingLinkOptions } from '../../src/peers/outgoing-link.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/protocol/line-splitter.js';
import { LocationStore } from '../../src/store/location-store.js';
import { capturingLogger } from './capture-log.js';
import type { ManualTimers } from './manual-timers.js';

export const SOLO: LinkIdentity = { name: 'Solo', incarnation: 'solo-1', secret: undefined };
export const FRIEND: LinkIdentity = { name: 'Friend', incarnation: 'friend-1', secret: undefined };

/**
 * Solo's outgoing link to Friend with the default link settings, a fixed 100 ms backoff and a
 * capturing logger; `options` overrides any of them. `statuses` lists every state it entered.
 */
export function dialler(timers: ManualTimers, options: Partial<OutgoingLinkOptions> = {}) {
  const log = capturingLogger();
  const statuses: string[] = [];
  const link = new OutgoingLink({
    self: SOLO,
    peerName: 'Friend',
    maxLineBytes: DEFAULT_MAX_LINE_BYTES,
    backoff: exponentialBackoff({ baseDelayMs: 100, maxDelayMs: 100, random: () => 0 }),
    logger: log.logger,
    timers,
    connectTimeoutMs: DEFAULT_LINK_SETTINGS.connectTimeoutMs,
    handshakeTimeoutMs: DEFAULT_LINK_SETTINGS.handshakeTimeoutMs,
    maxQueuedUpdates: DEFAULT_LINK_SETTINGS.maxQueuedUpdates,
    heartbeatIntervalMs: DEFAULT_LINK_SETTINGS.heartbeatIntervalMs,
    deadAfterMs: DEFAULT_LINK_SETTINGS.deadAfterMs,
    onStatus: (status) => statuses.push(status),
    ...options,
  });
  return { link, log, statuses };
}

/**
 * Solo's side of a link that Friend dials, over `stream` (a `duplexPair()` end, or a socket Solo
 * accepted), with the default link settings, an empty store that keeps no flood, and a capturing
 * logger; `options` overrides any of them.
 */
export function accepter(timers: ManualTimers, stream: Duplex, options: Partial<IncomingLinkOptions> = {}) {
  const log = capturingLogger();
  const link = new IncomingLink({
    id: 1,
    remote: 'test',
    stream,
    self: SOLO,
    isNeighbour: (name) => name === 'Friend',
    maxLineBytes: DEFAULT_MAX_LINE_BYTES,
    handshakeTimeoutMs: DEFAULT_LINK_SETTINGS.handshakeTimeoutMs,
    heartbeatIntervalMs: DEFAULT_LINK_SETTINGS.heartbeatIntervalMs,
    deadAfterMs: DEFAULT_LINK_SETTINGS.deadAfterMs,
    timers,
    logger: log.logger,
    observer: NOOP_OBSERVER,
    store: new LocationStore(),
    ingest: () => false,
    ...options,
  });
  return { link, log };
}

/** A fake neighbour "Friend" ({@link fakeNeighbour}). */
export interface FakeNeighbour {
  /** Where it listens: 127.0.0.1 and a port of its own. */
  readonly address: { host: string; port: number };
  /** Every byte it received so far, the greeting included, as UTF-8. */
  received(): string;
  /** The lines it received after the greeting, heartbeats left out. */
  readonly lines: string[];
  /** Connections whose other side (the dialler's) has ended. */
  ends(): number;
  close(): Promise<void>;
}

/**
 * A neighbour "Friend" on 127.0.0.1 port 0 that answers each connection's HELLO and then only
 * listens: it records what it gets and sends nothing more (no heartbeats: a silent neighbour).
 *
 * @param deaf - keep a connection open when the dialler ends it (`allowHalfOpen`). @default false
 */
export async function fakeNeighbour(deaf = false): Promise<FakeNeighbour> {
  const sockets = new Set<net.Socket>();
  const lines: string[] = [];
  let received = '';
  let ends = 0;
  const server = net.createServer({ allowHalfOpen: deaf }, (socket) => {
    sockets.add(socket);
    socket.on('end', () => ends++);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let greeted = false;
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      received += text;
      buffered += text;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (!greeted) {
          greeted = true;
          const answer = answerHello(parseGreeting(line), FRIEND, () => true);
          if (answer.ok) socket.write(answer.reply);
        } else if (line !== 'HEARTBEAT') lines.push(line);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    address: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port },
    received: () => received,
    lines,
    ends: () => ends,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
