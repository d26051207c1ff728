/** Messages between `herd start` (the supervisor) and the `herd serve` processes it forks. */
import type { PeerAddress } from '../peers/outgoing-link.js';

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

export function isListeningMessage(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'listening';
}

export function isPeersMessage(message: unknown): message is PeersMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'peers';
}
