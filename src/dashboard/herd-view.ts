/**
 * The herd as one server's dashboard sees it: every member of the config (name, location, admin
 * URL) and the links, and each member's latest status row, read server-side: this server's own
 * from itself, the others' from their admin `/status` (its `load` carries the counters) through the config's admin
 * addresses (or, under `herd start`, the real ones the supervisor sends).
 */
import { isServerStatus, type ServerLoad, type ServerStatus } from '../core/status.js';
import { httpGet } from '../observability/admin-client.js';
import type { HerdConfig } from '../config/herd-config.js';
import { httpUrl } from '../core/hosts.js';
import { parseIso6709, type LatLng } from '../protocol/location.js';

/** One member of the herd, as the config describes it. */
export interface HerdMember {
  readonly name: string;
  /** `servers[].location` of the config, if given. */
  readonly location: LatLng | undefined;
  /** `http://host:port` of its admin server, if known. */
  adminUrl: string | undefined;
  /** Run elsewhere (config `external`). */
  readonly external: boolean;
}

/** The herd a dashboard shows. */
export interface HerdDescription {
  /** The server this dashboard runs in. */
  readonly self: string;
  readonly servers: readonly HerdMember[];
  /** Each link once, as a pair of names, in config order. */
  readonly links: readonly (readonly [string, string])[];
}

/** What the topology panel shows of one member. */
export interface ServerRow {
  readonly name: string;
  /** `up`: its `/status` answered; `down`: it did not; `unknown`: no admin address to ask. */
  readonly state: 'up' | 'down' | 'unknown';
  /** Its dashboard (its admin URL + `/`), if known. */
  readonly dashboardUrl: string | undefined;
  /** Its `/status` snapshot, when up. */
  readonly status: ServerStatus | undefined;
  /** IAMATs answered per second since the previous reading (all outcomes). */
  readonly iamatPerSecond: number | undefined;
  /** Lines flooded to its neighbours per second since the previous reading. */
  readonly floodsPerSecond: number | undefined;
  /** Why it counts as down. */
  readonly error: string | undefined;
}

/** Where a member's figures come from: this server itself, or an admin URL. */
export interface MemberSource {
  /** Its `/status` snapshot, and its IAMAT and flood counters when it keeps them. */
  read(): Promise<MemberReading>;
}

/** One reading of a member. */
export interface MemberReading {
  readonly status: ServerStatus;
  readonly counters: HerdCounters | undefined;
}

/** The two counters a member's rates come from: IAMATs answered (any outcome) and floods sent (any peer). */
export type HerdCounters = Pick<ServerLoad, 'iamat' | 'floods'>;

/**
 * GET `url` within `timeoutMs` (with `authorization` as the `Authorization` header, if given);
 * resolves with the body of a 200, rejects with a short reason.
 */
export async function httpGetText(url: string, timeoutMs: number, authorization?: string): Promise<string> {
  const { status, body } = await httpGet(url, timeoutMs, authorization);
  if (status !== 200) throw new Error(`answered ${status}`);
  return body;
}

/** A member read over HTTP (its `/status`, which carries its counters), sending `authorization` (the herd's admin token) if given. */
export function remoteSource(adminUrl: string, timeoutMs: number, authorization?: string): MemberSource {
  return {
    read: async () => {
      const parsed: unknown = JSON.parse(await httpGetText(`${adminUrl}/status`, timeoutMs, authorization));
      if (!isServerStatus(parsed)) throw new Error('/status is not a status');
      return { status: parsed, counters: parsed.load };
    },
  };
}

interface Previous {
  readonly atMs: number;
  readonly incarnation: string;
  readonly iamat: number;
  readonly floods: number;
}

/** Reads every member's row; keeps the previous counters to turn them into rates. */
export class HerdPoller {
  private readonly herd: HerdDescription;
  private readonly local: MemberSource;
  private readonly timeoutMs: number;
  private readonly authorization: string | undefined;
  private readonly previous = new Map<string, Previous>();
  private inFlight: Promise<ServerRow[]> | undefined;
  /** The latest rows, in config order (empty before the first poll). */
  rows: ServerRow[] = [];

  /** @param authorization - the `Authorization` header for the other members' admin ports, if they need one. */
  constructor(herd: HerdDescription, local: MemberSource, timeoutMs: number, authorization?: string) {
    this.herd = herd;
    this.local = local;
    this.timeoutMs = timeoutMs;
    this.authorization = authorization;
  }

  /** Reads every member now (a poll already running is shared); never rejects. */
  poll(): Promise<ServerRow[]> {
    this.inFlight ??= Promise.all(this.herd.servers.map((member) => this.read(member))).then((rows) => {
      this.inFlight = undefined;
      this.rows = rows;
      return rows;
    });
    return this.inFlight;
  }

  private async read(member: HerdMember): Promise<ServerRow> {
    const dashboardUrl = member.adminUrl === undefined ? undefined : `${member.adminUrl}/`;
    const source =
      member.name === this.herd.self
        ? this.local
        : member.adminUrl === undefined
          ? undefined
          : remoteSource(member.adminUrl, this.timeoutMs, this.authorization);
    const empty = { name: member.name, dashboardUrl, iamatPerSecond: undefined, floodsPerSecond: undefined };
    if (source === undefined)
      return { ...empty, state: 'unknown', status: undefined, error: 'no admin address in the config' };
    let reading: MemberReading;
    try {
      reading = await source.read();
    } catch (error) {
      this.previous.delete(member.name);
      return { ...empty, state: 'down', status: undefined, error: String((error as Error).message) };
    }
    const { status, counters } = reading;
    let iamatPerSecond: number | undefined;
    let floodsPerSecond: number | undefined;
    if (counters !== undefined) {
      const now = performance.now();
      const before = this.previous.get(member.name);
      if (before !== undefined && before.incarnation === status.incarnation && now > before.atMs) {
        const seconds = (now - before.atMs) / 1000;
        iamatPerSecond = Math.max(0, (counters.iamat - before.iamat) / seconds);
        floodsPerSecond = Math.max(0, (counters.floods - before.floods) / seconds);
      }
      this.previous.set(member.name, {
        atMs: now,
        incarnation: status.incarnation,
        iamat: counters.iamat,
        floods: counters.floods,
      });
    }
    return { ...empty, state: 'up', status, iamatPerSecond, floodsPerSecond, error: undefined };
  }
}

/**
 * The herd a server's dashboard shows, from the config: every member with its location and the
 * admin URL the config gives (none for admin port 0: `herd start` sends the real ones).
 */
export function describeHerd(config: HerdConfig, self: string): HerdDescription {
  return {
    self,
    servers: config.servers.map((server) => ({
      name: server.name,
      location: server.location === undefined ? undefined : parseIso6709(server.location),
      adminUrl:
        server.adminPort === undefined || server.adminPort === 0
          ? undefined
          : httpUrl(server.adminHost, server.adminPort),
      external: server.external,
    })),
    links: config.links.map(([a, b]) => [a, b] as const),
  };
}
