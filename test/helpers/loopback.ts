/**
 * Loopback ports for the tests and the bench: a port free right now (for a config that must name
 * its port before the server starts), a port for a server that restarts on it, and a connection
 * made the instant a port first accepts.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A port number free on 127.0.0.1 right now, from the kernel's ephemeral range: for a server in this
 * process that binds it at once. Not for a server in a child process: in the second or more it
 * takes to start, the kernel may give the port to another test's connection; use
 * {@link restartablePort} there.
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The lowest port {@link restartablePort} hands out: above every shipped herd's ports (herds/*.json:
 * 12000-12124, and their peer ports `PEER_PORT_OFFSET` higher, 22000-22124), so that a test never
 * holds a port that `npm start` needs.
 */
const RESTARTABLE_LOW = 23_000;

/** The first port of the kernel's ephemeral range (`listen(0)` and outgoing connections take theirs there). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > RESTARTABLE_LOW + 1024 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * Where the test processes running at once reserve the ports {@link restartablePort} hands out: one
 * file per port, made with `O_EXCL` and holding the pid of its process, removed when that process
 * exits (a file whose process is gone is taken over).
 */
const RESERVATIONS = path.join(os.tmpdir(), 'herd-test-ports');
/** The reservations of this process, removed at its exit. */
const reserved = new Set<number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reserves `port` for this process; false when another live process holds it. */
function reserve(port: number): boolean {
  if (reserved.has(port)) return false;
  mkdirSync(RESERVATIONS, { recursive: true });
  const file = path.join(RESERVATIONS, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      if (reserved.size === 0) process.once('exit', () => reserved.forEach((each) => releasePort(each)));
      reserved.add(port);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8'));
      if (holder > 0 && alive(holder)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

function releasePort(port: number): void {
  rmSync(path.join(RESERVATIONS, String(port)), { force: true });
}

/**
 * A port on 127.0.0.1 for a server that must come back on the same port after a restart (a herd
 * started by `herd start` pins each port a server first bound): free now, picked at random below
 * the kernel's ephemeral range. A port 0 server's port comes from that range, and while the server
 * is down the kernel may give the port to anyone (another test's server listening on port 0, or the
 * local port of a connection), and the restart would wait until it is free again. Below the range
 * nothing but a named bind takes a port, and the test processes running at once reserve the ports
 * they hand out (RESERVATIONS), so two herds never pick the same one.
 *
 * @throws Error when 50 random picks were all in use.
 */
export async function restartablePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = RESTARTABLE_LOW + Math.floor(Math.random() * (high - RESTARTABLE_LOW + 1));
    if (!reserve(port)) continue;
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) {
      reserved.delete(port);
      releasePort(port);
      continue;
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
  throw new Error(`no free port between ${RESTARTABLE_LOW} and ${high} in 50 picks`);
}

/**
 * How often {@link connectTheInstantItAccepts} tries while its caller says the port cannot accept yet,
 * ms. Each try is a refused connect: about 0.2-0.4 ms of CPU, mostly the kernel's, so trying every
 * millisecond for the seconds a loaded server takes to start costs a fifth of a core or more.
 */
export const ACCEPT_POLL_COARSE_MS = 10;

/**
 * Connects to 127.0.0.1:`port` as soon as it accepts, trying about every millisecond; with `near`,
 * every {@link ACCEPT_POLL_COARSE_MS} until `near` resolves (the caller's sign that the listener is
 * close: a new server process that has begun to log), then every millisecond.
 *
 * @returns the connected socket (half-open allowed), whose `acceptedAt` is the `performance.now()`
 *   of the connect.
 * @throws Error when the port has not accepted within `timeoutMs`.
 */
export async function connectTheInstantItAccepts(
  port: number,
  timeoutMs: number,
  near?: Promise<unknown>,
): Promise<net.Socket & { readonly acceptedAt: number }> {
  const deadline = performance.now() + timeoutMs;
  let fine = near === undefined;
  // Woken early when `near` resolves, so that the first fine try does not wait out a coarse pause.
  let wake = (): void => undefined;
  void near?.then(
    () => {
      fine = true;
      wake();
    },
    () => undefined,
  );
  for (;;) {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (connected) return Object.assign(socket, { acceptedAt: performance.now() });
    socket.destroy();
    if (performance.now() > deadline) throw new Error(`port ${port} did not accept within ${timeoutMs} ms`);
    if (fine) await sleep(1);
    else
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ACCEPT_POLL_COARSE_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
  }
}
