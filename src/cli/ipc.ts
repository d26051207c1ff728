/** Messages between `herd start` (the supervisor) and the `herd serve` processes it forks. */
import type { PeerAddress } from '../peers/outgoing-link.js';

/**
 * Environment variable the supervisor sets for each server it forks: JSON, by server name, the peer
 * addresses it knows at that moment (`{"Ball":{"host":"127.0.0.1","port":22001}}`), so that a
 * restarted server dials its neighbours as soon as its peer port listens, without waiting for a
 * {@link PeersMessage}.
 */
export const PEER_ADDRESSES_ENV = 'HERD_PEER_ADDRESSES';

/**
 * Environment variable the supervisor sets to `0` for the servers it starts together, at the first
 * start of a herd: none has anything to catch up on, so each opens its client port without waiting
 * for its neighbours' links (`peer.joinTimeoutMs` is for a server joining a running herd).
 */
export const JOIN_ENV = 'HERD_JOIN';

/** The addresses of {@link PEER_ADDRESSES_ENV}; anything malformed is left out. */
export function peerAddressesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, PeerAddress> {
  const out: Record<string, PeerAddress> = {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(env[PEER_ADDRESSES_ENV] ?? '{}');
  } catch {
    return out;
  }
  if (typeof parsed !== 'object' || parsed === null) return out;
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const { host, port } = (value ?? {}) as { host?: unknown; port?: unknown };
    if (typeof host === 'string' && Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536)
      out[name] = { host, port: port as number };
  }
  return out;
}

/** Child to supervisor: the server is accepting connections. */
export interface ListeningMessage {
  readonly type: 'listening';
  readonly name: string;
  /** The client port's interface and port. */
  readonly host: string;
  readonly port: number;
  /** The peer port's interface and port. */
  readonly peerHost: string;
  readonly peerPort: number;
  readonly pid: number;
  /** Absolute path of the server's log file. */
  readonly logFile: string;
  /** `http://host:port` of the server's admin HTTP server; absent when it has none. */
  readonly adminUrl?: string;
}

/** Supervisor to child: where every server of the herd has its peer port. */
export interface PeersMessage {
  readonly type: 'peers';
  /** By server name: the address its neighbours dial. */
  readonly addresses: Record<string, PeerAddress>;
  /**
   * By server name: `http://host:port` of its admin server, where known (the real port when the
   * config says 0), for the dashboards' herd view.
   */
  readonly adminUrls?: Record<string, string>;
}

/**
 * Child to supervisor: the server cannot start (a port in use, a store that does not open, ...);
 * `herd start` prints `herd: <name>: <reason>` and stops the others.
 */
export interface FailedMessage {
  readonly type: 'failed';
  /** One line for the user: what failed and the fix, without the server's name. */
  readonly reason: string;
}

export function isFailedMessage(message: unknown): message is FailedMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'failed';
}

/** Whether this process is a server forked by `herd start` (it has an IPC channel to it). */
export function isSupervised(): boolean {
  return typeof process.send === 'function' && process.connected;
}

/**
 * Reports why this server cannot start: under `herd start`, over IPC to the supervisor, which prints
 * it with the server's name; otherwise as one line on stderr, `herd: [<name>: ]<reason>`.
 *
 * @returns once the message is handed to the channel (so the process may exit right after).
 */
export function reportStartFailure(reason: string, name?: string): Promise<void> {
  if (!isSupervised()) {
    process.stderr.write(`herd: ${name === undefined ? '' : `${name}: `}${reason}\n`);
    return Promise.resolve();
  }
  const message: FailedMessage = { type: 'failed', reason };
  return new Promise((resolve) => {
    if (!sendQuietly(process, message, () => resolve())) resolve();
  });
}

/** One end of an IPC channel: a forked child (`ChildProcess`), or `process` in the child. */
export interface IpcEnd {
  readonly connected: boolean;
  send?(message: unknown, sendHandle: undefined, options: undefined, callback: (error: Error | null) => void): boolean;
}

/**
 * Sends `message` over an IPC channel without ever throwing or emitting `'error'`. A process that
 * died a moment ago still looks connected until its end of the channel is read, and a send to it
 * fails with `EPIPE`; without a callback Node emits that as an `'error'` event, and an unhandled one
 * ends the sender. `herd start` ended that way when a server was killed just as another came back
 * (its new address went to every server), and the servers then stopped with it ("supervisor gone").
 * Such a message is lost with the process it was for: a restarted server gets the addresses in its
 * environment ({@link PEER_ADDRESSES_ENV}).
 *
 * @param done - called once the message was handed to the channel, or its send failed.
 * @returns false when the channel was already closed (nothing sent, `done` not called).
 */
export function sendQuietly(end: IpcEnd, message: unknown, done: () => void = () => undefined): boolean {
  if (!end.connected || end.send === undefined) return false;
  end.send(message, undefined, undefined, () => done());
  return true;
}

export function isListeningMessage(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'listening';
}

export function isPeersMessage(message: unknown): message is PeersMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'peers';
}
