/** Interfaces that listeners take by default, and how an address is written as a URL. */

/**
 * Loopback: the default interface of a server's client and peer ports, and of its admin port (which
 * is for operators and Prometheus, not for clients).
 */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * `http://host:port`, with brackets around an IPv6 host (an admin server's URL). Here rather than
 * beside the admin server so that `herd start` and `herd status` write URLs without loading node:http.
 */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
