/** Interfaces that listeners take by default. */

/**
 * Loopback: the default interface of a server's client and peer ports, and of its admin port (which
 * is for operators and Prometheus, not for clients).
 */
export const LOOPBACK_HOST = '127.0.0.1';
