/**
 * A test bed of real network stacks (issue 12): Linux network namespaces joined by bridges, made with
 * iproute2 (`ip`), so that links between herd servers cross real TCP/IP stacks that can fail
 * silently, as a switch port, a security group or a pulled cable does.
 *
 * Layout of one bed (`<prefix>` is `herdbed-<id>-`):
 *
 *     <prefix>hub       two bridges: `brc` (client network 10.77.0.0/24) and `brp` (private peer
 *                       network 10.78.0.0/24), and a spare `brq` that a split moves one side onto
 *     <prefix><Host>    one per server: `client0` 10.77.0.<n> on brc, `peer0` 10.78.0.<n> on brp
 *     <prefix>clients   the test's clients (and operators): `client0` 10.77.0.200 on brc
 *
 * Nothing is added to the machine's own namespace: every address lives in a namespace the bed made,
 * and {@link NetnsBed.destroy} (or {@link cleanLeftoverBeds}, for a run that was killed) removes them
 * all, the processes inside first.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every namespace of every bed starts with this; leftovers are found by it. */
export const BED_PREFIX = 'herdbed-';
/** The client network: host n is 10.77.0.n. */
export const CLIENT_NET = '10.77.0';
/** The private network of the peer ports: host n is 10.78.0.n. */
export const PEER_NET = '10.78.0';
/** The clients' (and operators') namespace's address on the client network. */
export const CLIENTS_ADDRESS = `${CLIENT_NET}.200`;

/** Runs `ip ...args`; rejects with its stderr. */
export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { timeout: 10_000 });
    return stdout;
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() ?? (error as Error).message;
    throw new Error(`ip ${args.join(' ')}: ${detail}`, { cause: error });
  }
}

/** The names of every network namespace on the machine. */
async function namespaces(): Promise<string[]> {
  const out = await ip('netns', 'list');
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills every process inside namespace `ns` (SIGKILL) and deletes it; a missing one is fine. */
async function removeNamespace(ns: string): Promise<void> {
  const pids = await ip('netns', 'pids', ns).catch(() => '');
  for (const pid of pids.split('\n').filter((text) => text !== '')) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await ip('netns', 'del', ns).catch(() => undefined);
}

/**
 * Removes what killed runs left: every namespace of a bed whose id is `t<pid>` of a process that is
 * gone, and with `id`, every namespace of that bed whatever its state.
 */
export async function cleanLeftoverBeds(id?: string): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await namespaces()) {
    if (!ns.startsWith(BED_PREFIX)) continue;
    const bedId = ns.slice(BED_PREFIX.length).split('-')[0] ?? '';
    const owner = /^t(\d+)$/.exec(bedId);
    if (bedId === id || (owner !== null && !alive(Number(owner[1])))) {
      await removeNamespace(ns);
      removed.push(ns);
    }
  }
  return removed;
}

/**
 * Why this machine cannot make a bed (not root, no `ip`, namespaces refused), or `undefined` when it
 * can. Tries a namespace for real.
 */
export async function whyNoNetns(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run as root, as CI does)';
  const probe = `${BED_PREFIX}probe${process.pid}`;
  try {
    await ip('netns', 'add', probe);
    await ip('-n', probe, 'link', 'add', 'name', 'br0', 'type', 'bridge');
  } catch (error) {
    return `cannot make network namespaces here: ${(error as Error).message.split('\n')[0] ?? ''}`;
  } finally {
    await ip('netns', 'del', probe).catch(() => undefined);
  }
  return undefined;
}

/** One server's host in the bed. */
export interface BedHost {
  readonly name: string;
  /** 1-based; the last byte of both addresses. */
  readonly index: number;
  /** Its namespace. */
  readonly ns: string;
  /** Address on the client network. */
  readonly clientAddress: string;
  /** Address on the private peer network. */
  readonly peerAddress: string;
}

/** A bed of namespaces: create with {@link NetnsBed.create}, always {@link destroy}. */
export class NetnsBed {
  readonly id: string;
  readonly prefix: string;
  readonly hub: string;
  /** The clients' namespace, on the client network only. */
  readonly clients: string;
  readonly hosts: ReadonlyMap<string, BedHost>;
  /** Pairs cut with {@link cutLink} and not healed, as `a|b`. */
  private readonly cutPairs = new Set<string>();

  private constructor(id: string, names: readonly string[]) {
    this.id = id;
    this.prefix = `${BED_PREFIX}${id}-`;
    this.hub = `${this.prefix}hub`;
    this.clients = `${this.prefix}clients`;
    this.hosts = new Map(
      names.map((name, i) => [
        name,
        {
          name,
          index: i + 1,
          ns: `${this.prefix}${name}`,
          clientAddress: `${CLIENT_NET}.${i + 1}`,
          peerAddress: `${PEER_NET}.${i + 1}`,
        },
      ]),
    );
  }

  /**
   * Makes a bed for `names` (at most 199 hosts), first removing a bed of the same id and any
   * leftovers of killed runs.
   *
   * @param id - letters and digits; `t<pid>` for a test run. @default `t<this process id>`
   * @throws when a namespace, bridge or link cannot be made (the half-made bed is removed first).
   */
  static async create(names: readonly string[], id = `t${process.pid}`): Promise<NetnsBed> {
    if (!/^[A-Za-z0-9]+$/.test(id)) throw new Error(`bed id must be letters and digits: ${id}`);
    await cleanLeftoverBeds(id);
    const bed = new NetnsBed(id, names);
    try {
      await bed.build();
    } catch (error) {
      await bed.destroy();
      throw error;
    }
    return bed;
  }

  /**
   * The bed of `id` that an earlier process made (for commands run by hand against a running bed).
   *
   * @throws when its hub namespace does not exist.
   */
  static async attach(names: readonly string[], id: string): Promise<NetnsBed> {
    const bed = new NetnsBed(id, names);
    if (!(await namespaces()).includes(bed.hub)) throw new Error(`no bed "${id}" here (no namespace ${bed.hub})`);
    return bed;
  }

  private async build(): Promise<void> {
    const hub = this.hub;
    await ip('netns', 'add', hub);
    await ip('-n', hub, 'link', 'set', 'lo', 'up');
    for (const bridge of ['brc', 'brp', 'brq']) {
      await ip('-n', hub, 'link', 'add', 'name', bridge, 'type', 'bridge');
      await ip('-n', hub, 'link', 'set', bridge, 'up');
    }
    const attach = async (ns: string, hubEnd: string, nsEnd: string, bridge: string, cidr: string): Promise<void> => {
      await ip('-n', hub, 'link', 'add', 'name', hubEnd, 'type', 'veth', 'peer', 'name', nsEnd, 'netns', ns);
      await ip('-n', hub, 'link', 'set', hubEnd, 'master', bridge);
      await ip('-n', hub, 'link', 'set', hubEnd, 'up');
      await ip('-n', ns, 'addr', 'add', cidr, 'dev', nsEnd);
      await ip('-n', ns, 'link', 'set', nsEnd, 'up');
    };
    for (const host of this.hosts.values()) {
      await ip('netns', 'add', host.ns);
      await ip('-n', host.ns, 'link', 'set', 'lo', 'up');
      await attach(host.ns, `c${host.index}`, 'client0', 'brc', `${host.clientAddress}/24`);
      await attach(host.ns, `p${host.index}`, 'peer0', 'brp', `${host.peerAddress}/24`);
    }
    await ip('netns', 'add', this.clients);
    await ip('-n', this.clients, 'link', 'set', 'lo', 'up');
    await attach(this.clients, 'c0', 'client0', 'brc', `${CLIENTS_ADDRESS}/24`);
  }

  /** The host of server `name`. @throws for a name the bed does not have. */
  host(name: string): BedHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`no host ${name} in the bed (hosts: ${[...this.hosts.keys()].join(', ')})`);
    return host;
  }

  /**
   * Cuts a host off the private network silently: its `peer0` goes down inside its namespace, so
   * its neighbours get no RST, no FIN, nothing; its client port stays reachable.
   */
  async cut(name: string): Promise<void> {
    await ip('-n', this.host(name).ns, 'link', 'set', 'peer0', 'down');
  }

  /** Ends {@link cut}: `peer0` up again (its address and route come back with it). */
  async heal(name: string): Promise<void> {
    await ip('-n', this.host(name).ns, 'link', 'set', 'peer0', 'up');
  }

  /**
   * Splits the private network in two at the switch: the peer ports of `side` move to the spare
   * bridge, so neither side hears the other, and neither host sees a carrier change.
   */
  async split(side: readonly string[]): Promise<void> {
    for (const name of side) await ip('-n', this.hub, 'link', 'set', `p${this.host(name).index}`, 'master', 'brq');
  }

  /** Ends every {@link split}: all peer ports back on one bridge. */
  async join(): Promise<void> {
    for (const host of this.hosts.values()) await ip('-n', this.hub, 'link', 'set', `p${host.index}`, 'master', 'brp');
  }

  /**
   * Cuts the path from `from` to `to` only (a one-way cut): a blackhole route in `from`'s namespace
   * drops what it sends to `to`'s peer address. `to` can still send to `from`.
   */
  async cutOneWay(from: string, to: string): Promise<void> {
    await ip('-n', this.host(from).ns, 'route', 'add', 'blackhole', `${this.host(to).peerAddress}/32`);
  }

  /** Ends {@link cutOneWay}. */
  async healOneWay(from: string, to: string): Promise<void> {
    await ip('-n', this.host(from).ns, 'route', 'del', 'blackhole', `${this.host(to).peerAddress}/32`);
  }

  /** Cuts the link between two hosts both ways (each drops what it sends to the other). */
  async cutLink(a: string, b: string): Promise<void> {
    await this.cutOneWay(a, b);
    await this.cutOneWay(b, a);
    this.cutPairs.add(`${a}|${b}`);
  }

  /** Ends {@link cutLink}. */
  async healLink(a: string, b: string): Promise<void> {
    await this.healOneWay(a, b);
    await this.healOneWay(b, a);
    this.cutPairs.delete(`${a}|${b}`);
  }

  /**
   * Flaps the link between `a` and `b`: cut for `periodMs`, healed for `periodMs`, until
   * `durationMs` is over; ends healed. Calls `onChange` after each change with `true` when cut.
   */
  async flap(
    a: string,
    b: string,
    options: { periodMs: number; durationMs: number; onChange?: (cut: boolean) => void },
  ): Promise<number> {
    const end = performance.now() + options.durationMs;
    let flaps = 0;
    while (performance.now() < end) {
      await this.cutLink(a, b);
      options.onChange?.(true);
      await new Promise((resolve) => setTimeout(resolve, options.periodMs));
      await this.healLink(a, b);
      options.onChange?.(false);
      flaps++;
      await new Promise((resolve) => setTimeout(resolve, options.periodMs));
    }
    return flaps;
  }

  /** The `ip` arguments that run `command` inside host `name`'s namespace (`clients`: the clients' one). */
  execArgs(name: string, command: readonly string[]): string[] {
    const ns = name === 'clients' ? this.clients : this.host(name).ns;
    return ['netns', 'exec', ns, ...command];
  }

  /** Removes every namespace of the bed, killing what runs inside; safe to call twice. */
  async destroy(): Promise<void> {
    for (const host of this.hosts.values()) await removeNamespace(host.ns);
    await removeNamespace(this.clients);
    await removeNamespace(this.hub);
    this.cutPairs.clear();
  }
}
