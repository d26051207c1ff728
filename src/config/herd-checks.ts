/**
 * The rules of a herd config between fields, which the schema (herd-schema.ts) cannot say alone:
 * unique server names and ports, real ports for external servers, links between known servers, and
 * timeouts that must nest. Each failure names the file and the field (docs/operations.md
 * "Configuration").
 */
import { ConfigError } from '../errors.js';
import { linkSettingsProblem } from '../peers/link-settings.js';
import { nearestName } from './config-messages.js';
import type { HerdConfig, ServerConfig } from './herd-schema.js';

/** The three ports of a server, as config fields. */
const PORT_FIELDS = [
  { field: 'port', host: 'host', what: 'client port' },
  { field: 'peerPort', host: 'peerHost', what: 'peer port' },
  { field: 'adminPort', host: 'adminHost', what: 'admin port' },
] as const;

/** Interfaces that mean "every interface": a port bound there clashes with that port on any host. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * Refuses any port used twice among the client, peer and admin ports of servers whose interfaces
 * overlap (the same host, or a wildcard one). Port 0 (the OS chooses) never clashes.
 *
 * @throws {ConfigError} naming the later field and the earlier use.
 */
function checkPortsUnique(servers: readonly ServerConfig[], file: string): void {
  const used: { host: string; port: number; label: string }[] = [];
  servers.forEach((server, i) => {
    for (const { field, host: hostField, what } of PORT_FIELDS) {
      const port = server[field];
      if (port === undefined || port === 0) continue;
      const host = server[hostField];
      const clash = used.find(
        (other) =>
          other.port === port && (other.host === host || WILDCARD_HOSTS.has(other.host) || WILDCARD_HOSTS.has(host)),
      );
      if (clash !== undefined) {
        throw new ConfigError(
          file,
          `servers[${i}].${field}: ${host}:${port} is also the ${clash.label} (duplicate port)`,
        );
      }
      used.push({ host, port, label: `${what} of "${server.name}"` });
    }
  });
}

/**
 * Checks the rules between fields of a config the schema accepted.
 *
 * @param file - the file it came from, for error messages.
 * @throws {ConfigError} naming the file and field: duplicate server names, a port used twice among
 *   the client, peer and admin ports of servers on the same host, a port 0 on an external server,
 *   links to unknown servers, self-links, duplicate links, link settings that break a rule between
 *   fields (`peer.deadAfterMs` under twice `peer.heartbeatIntervalMs`), and a Google time budget not
 *   under `limits.placesTimeoutMs`.
 */
export function checkHerdConfig(config: HerdConfig, file: string): void {
  const names = new Set<string>();
  config.servers.forEach((server, i) => {
    if (names.has(server.name))
      throw new ConfigError(file, `servers[${i}].name: duplicate server name "${server.name}"`);
    names.add(server.name);
    if (server.external) {
      for (const { field } of PORT_FIELDS) {
        if (server[field] === 0) {
          throw new ConfigError(
            file,
            `servers[${i}].${field}: external server "${server.name}" needs a real port, not 0`,
          );
        }
      }
    }
  });
  checkPortsUnique(config.servers, file);
  const linkProblem = linkSettingsProblem(config.peer);
  if (linkProblem !== undefined) throw new ConfigError(file, `peer.${linkProblem}`);
  if (config.places.source !== 'offline' && config.places.timeoutMs >= config.limits.placesTimeoutMs) {
    // A Google source must give up first, so the client gets its specific error, not the server's generic one.
    throw new ConfigError(
      file,
      `places.timeoutMs: ${config.places.timeoutMs} must be less than limits.placesTimeoutMs (${config.limits.placesTimeoutMs})`,
    );
  }
  const seen = new Set<string>();
  const unknownServer = (name: string): string => {
    const near = nearestName(name, [...names]);
    return `unknown server "${name}" (${near === undefined ? '' : `did you mean "${near}"? `}servers are ${[...names].join(', ')})`;
  };
  config.links.forEach(([a, b], i) => {
    if (!names.has(a)) throw new ConfigError(file, `links[${i}][0]: ${unknownServer(a)}`);
    if (!names.has(b)) throw new ConfigError(file, `links[${i}][1]: ${unknownServer(b)}`);
    if (a === b) throw new ConfigError(file, `links[${i}]: a server cannot link to itself ("${a}")`);
    const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
    if (seen.has(key)) throw new ConfigError(file, `links[${i}]: duplicate link ${a}-${b}`);
    seen.add(key);
  });
}
