/**
 * What `herd serve` says when one of its three ports cannot be bound: the port, its role, why, and
 * the fix, in one line (docs/operations.md "Troubleshooting"). Exit code 1.
 */
import { PortError } from '../errors.js';
import { commandHint } from './wording.js';

/** The three ports of a server (docs/protocol.md "Ports"; the admin port: docs/observability.md). */
export type PortRole = 'client' | 'peer' | 'admin';

/** The config field and the `herd serve` flag that set each port. */
const PORT_SETTINGS: Record<PortRole, { field: string; hostField: string; flag: string }> = {
  client: { field: 'port', hostField: 'host', flag: '--port' },
  peer: { field: 'peerPort', hostField: 'peerHost', flag: '--peer-port' },
  admin: { field: 'adminPort', hostField: 'adminHost', flag: '--admin-port' },
};

/**
 * The error for a `listen` that failed on a port.
 *
 * @param error - what `listen` rejected with (its `code`: `EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, ...).
 * @param configFile - the herd's config, for the `herd status` / `herd stop` the message suggests.
 * @returns a {@link PortError} whose message names the role, `host:port`, the cause and the fix.
 */
export function portError(role: PortRole, host: string, port: number, error: unknown, configFile: string): PortError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  const { field, hostField, flag } = PORT_SETTINGS[role];
  const where = `${role} port ${host.includes(':') ? `[${host}]` : host}:${port}`;
  let message: string;
  switch (code) {
    case 'EADDRINUSE':
      message = `${where} is already in use (EADDRINUSE): another process holds it, often a herd already running (${commandHint('status', configFile)} shows it, ${commandHint('stop', configFile)} stops it); find the process with ss -ltnp 'sport = :${port}', or set another ${field} in the config (or ${flag})`;
      break;
    case 'EACCES':
      message = `${where}: permission denied (EACCES): a port under 1024 needs root or CAP_NET_BIND_SERVICE; choose a port from 1024 up (${field}, or ${flag})`;
      break;
    case 'EADDRNOTAVAIL':
      message = `${where}: no interface of this machine has the address ${host} (EADDRNOTAVAIL): fix ${hostField} in the config`;
      break;
    default:
      message = `${where}: cannot listen (${code})`;
  }
  return new PortError(message, { cause: error });
}
