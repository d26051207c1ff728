/**
 * What `herd start` prints about its members, and the patterns that read it back (the bench, the
 * tests): one line per member, its dashboard (the admin URL + `/`) on a line of its own under it, and
 * the line saying the herd is up.
 */
import type { ServerConfig } from '../config/herd-config.js';
import { httpUrl } from '../core/hosts.js';
import type { ListeningMessage } from './ipc.js';

/**
 * A member's line as `herd start` prints it (`startHerd` below): `  <name>  <host>:<port>  peer
 * <peer host>:<peer port>  pid <pid>  log <file>[  admin <url>]`, for tools that read the output
 * (the bench, the tests). The log path is matched lazily, so a trailing `admin <url>` is not read as
 * part of it.
 */
export const MEMBER_LINE =
  /^\s+(?<name>\S+)\s+(?<host>\S+):(?<port>\d+)\s+peer (?<peerHost>\S+):(?<peerPort>\d+)\s+pid (?<pid>\d+)\s+log (?<logFile>.+?)(?:\s+admin (?<adminUrl>\S+))?$/;
/** The line `herd start` prints once every server listens (`herd: 5 servers up in 2156 ms; ...`). */
export const HERD_UP_LINE = /^herd: \d+ servers? up in \d+ ms/;

/** The lines of a started member, its name padded to `width`. */
export function memberLines(listening: ListeningMessage, width: number): string[] {
  const admin = listening.adminUrl === undefined ? '' : `  admin ${listening.adminUrl}`;
  return [
    `  ${listening.name.padEnd(width)}  ${listening.host}:${listening.port}  peer ${listening.peerHost}:${listening.peerPort}  pid ${listening.pid}  log ${listening.logFile}${admin}`,
    ...dashboardLine(listening.adminUrl, width),
  ];
}

/** The lines of an external member (config `external`: linked to, not started). */
export function externalLines(server: ServerConfig, width: number): string[] {
  const adminUrl = server.adminPort === undefined ? undefined : httpUrl(server.adminHost, server.adminPort);
  return [
    `  ${server.name.padEnd(width)}  ${server.host}:${server.port}  peer ${server.peerHost}:${server.peerPort}  external (not started here)${adminUrl === undefined ? '' : `  admin ${adminUrl}`}`,
    ...dashboardLine(adminUrl, width),
  ];
}

function dashboardLine(adminUrl: string | undefined, width: number): string[] {
  return adminUrl === undefined ? [] : [`  ${' '.repeat(width)}  dashboard ${adminUrl}/`];
}

/** How a member process ended, for `herd start`'s lines: `exit code 1` or `signal SIGKILL`. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exit code ${code ?? '?'}` : `signal ${signal}`;
}
