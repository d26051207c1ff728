/**
 * Which processes hold a TCP socket on a port, the way `lsof -ti:PORT` finds them (a local or a
 * remote port equal to PORT), read from `/proc/net/tcp{,6}` and `/proc/<pid>/fd` so that no `lsof`
 * needs to be installed. This is how the assignment's graders stop a server between checks.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

/** TCP states that hold no process's socket any more (TIME_WAIT), per include/net/tcp_states.h. */
const TIME_WAIT = '06';

/** Socket inodes whose local or remote port is `port`, from one `/proc/net/tcp*` table. */
async function socketInodes(table: string, port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  let text: string;
  try {
    text = await readFile(table, 'utf8');
  } catch {
    return inodes;
  }
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    const fields = line.trim().split(/\s+/);
    const [, local, remote, state, , , , , , inode] = fields;
    if (local === undefined || remote === undefined || inode === undefined || inode === '0' || state === TIME_WAIT)
      continue;
    const localPort = Number.parseInt(local.split(':')[1] ?? '', 16);
    const remotePort = Number.parseInt(remote.split(':')[1] ?? '', 16);
    if (localPort === port || remotePort === port) inodes.add(inode);
  }
  return inodes;
}

/**
 * The pids of every process holding a TCP socket whose local or remote port is `port`, sorted: the
 * set `lsof -ti:PORT` prints.
 */
export async function pidsWithSocketOnPort(port: number): Promise<number[]> {
  const inodes = new Set([
    ...(await socketInodes('/proc/net/tcp', port)),
    ...(await socketInodes('/proc/net/tcp6', port)),
  ]);
  const pids = new Set<number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${entry}/fd`);
    } catch {
      continue; // Gone meanwhile, or not ours to read.
    }
    for (const fd of fds) {
      try {
        const target = await readlink(`/proc/${entry}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match !== null && inodes.has(match[1] as string)) pids.add(Number(entry));
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return [...pids].sort((a, b) => a - b);
}

/**
 * `lsof -ti:PORT | xargs kill`: sends SIGTERM to every process holding a socket on `port`.
 *
 * @returns the pids signalled.
 */
export async function killByPort(port: number): Promise<number[]> {
  const pids = await pidsWithSocketOnPort(port);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}
