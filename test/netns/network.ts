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
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every namespace of every bed starts with this; leftovers are found by it. */
export const BED_PREFIX = 'herdbed-';
/** The client network: host n is 10.77.0.n. */
export const CLIENT_NET = '10.77.0';
/** The private network of the peer ports: host n is 10.78.0.n. */
export const PEER_NET = '10.78.0';
/** Where `ip netns add` mounts the namespaces it names. */
const NETNS_DIR = '/run/netns';
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

/**
 * Runs many `ip` commands in one process (`ip [-n ns] -batch -`, one command's arguments a line): a
 * bed is about a hundred commands, and starting an `ip` from the test process costs more CPU than
 * the command's own work (docs/benchmarks.md "The netns scenarios' CPU (2026-12-03)").
 * Arguments must not hold white space (the batch splits lines at it).
 *
 * @param options.ns - the namespace every line runs in. @default the caller's
 * @param options.force - run every line whatever fails, and never reject (`-force`)
 * @throws (naming the line that failed, from ip's stderr) when a line fails, unless `force`.
 */
export async function ipBatch(
  commands: readonly (readonly string[])[],
  options: { ns?: string; force?: boolean } = {},
): Promise<void> {
  for (const command of commands) {
    if (command.some((arg) => /\s/.test(arg) || arg === ''))
      throw new Error(`ip batch argument with white space: ${command.join(' ')}`);
  }
  const args = [
    ...(options.ns === undefined ? [] : ['-n', options.ns]),
    ...(options.force ? ['-force'] : []),
    '-batch',
    '-',
  ];
  const running = run('ip', args, { timeout: 10_000 });
  running.child.stdin?.end(commands.map((command) => `${command.join(' ')}\n`).join(''));
  try {
    await running;
  } catch (error) {
    if (options.force) return;
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

/**
 * The processes inside the namespaces `names` (a missing one has none), found as `ip netns pids`
 * does, by the namespace's inode, but read from /proc here without an `ip` process per namespace.
 */
async function processesIn(names: readonly string[]): Promise<number[]> {
  const inodes = new Set<string>();
  for (const name of names) {
    const found = await stat(path.join(NETNS_DIR, name)).catch(() => undefined);
    if (found !== undefined) inodes.add(`${found.dev}:${found.ino}`);
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const found = await stat(`/proc/${entry}/ns/net`).catch(() => undefined);
    if (found !== undefined && inodes.has(`${found.dev}:${found.ino}`)) pids.push(Number(entry));
  }
  return pids;
}

/** Kills every process inside the namespaces `names` (SIGKILL) and deletes them; a missing one is fine. */
async function removeNamespaces(names: readonly string[]): Promise<void> {
  for (const pid of await processesIn(names)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await ipBatch(
    names.map((name) => ['netns', 'del', name]),
    { force: true },
  );
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
    if (bedId === id || (owner !== null && !alive(Number(owner[1])))) removed.push(ns);
  }
  if (removed.length > 0) await removeNamespaces(removed);
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

  /** Every namespace of the bed: the hosts', the clients', the hub. */
  private namespaceNames(): string[] {
    return [...[...this.hosts.values()].map((host) => host.ns), this.clients, this.hub];
  }

  // Three rounds of `ip -batch`: the namespaces; the bridges and veth pairs, made from the hub with
  // their far ends put straight into the other namespaces; then each namespace's addresses and links.
  private async build(): Promise<void> {
    const hub = this.hub;
    await ipBatch(this.namespaceNames().map((ns) => ['netns', 'add', ns]));
    const hubCommands: string[][] = [['link', 'set', 'lo', 'up']];
    for (const bridge of ['brc', 'brp', 'brq']) {
      hubCommands.push(['link', 'add', 'name', bridge, 'type', 'bridge'], ['link', 'set', bridge, 'up']);
    }
    const inside = new Map<string, string[][]>();
    const attach = (ns: string, hubEnd: string, nsEnd: string, bridge: string, cidr: string): void => {
      hubCommands.push(
        ['link', 'add', 'name', hubEnd, 'type', 'veth', 'peer', 'name', nsEnd, 'netns', ns],
        ['link', 'set', hubEnd, 'master', bridge],
        ['link', 'set', hubEnd, 'up'],
      );
      const commands = inside.get(ns) ?? [['link', 'set', 'lo', 'up']];
      commands.push(['addr', 'add', cidr, 'dev', nsEnd], ['link', 'set', nsEnd, 'up']);
      inside.set(ns, commands);
    };
    for (const host of this.hosts.values()) {
      attach(host.ns, `c${host.index}`, 'client0', 'brc', `${host.clientAddress}/24`);
      attach(host.ns, `p${host.index}`, 'peer0', 'brp', `${host.peerAddress}/24`);
    }
    attach(this.clients, 'c0', 'client0', 'brc', `${CLIENTS_ADDRESS}/24`);
    await ipBatch(hubCommands, { ns: hub });
    await Promise.all([...inside].map(([ns, commands]) => ipBatch(commands, { ns })));
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
    await removeNamespaces(this.namespaceNames());
    this.cutPairs.clear();
  }
}
