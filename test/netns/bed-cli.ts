/**
 * The test bed by hand (`npm run bed -- <command>`; docs/deploy.md "The test bed"). As root. `up`
 * builds the bed (id `manual`) and runs the default herd in it in the foreground, restarting a
 * server that fails (exits non-zero, or dies of a signal other than SIGTERM, SIGINT or SIGHUP), as
 * systemd's `Restart=on-failure` does; Ctrl-C stops the servers and removes every namespace. The
 * other commands act on that running bed from another terminal.
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, DEFAULT_SERVERS, ROOT } from '../helpers/herd-process.js';
import { BedHerd } from './bed-herd.js';
import { NetnsBed, cleanLeftoverBeds, ip, whyNoNetns } from './network.js';

/** The id of the bed run by hand. */
export const MANUAL_BED_ID = 'manual';
/** Where `up` keeps the config, logs and data of the herd run by hand. */
export const MANUAL_BED_DIR = path.join(os.tmpdir(), 'herd-bed-manual');
/** Delay before `up` restarts a server that exited, ms (systemd's `RestartSec=1`). */
export const RESTART_DELAY_MS = 1000;

const USAGE = `usage: npm run bed -- <command>   (as root)
  up [--skew NAME=+30s ...] [--heartbeat MS] [--dead-after MS]
                              build the bed and run the default herd in it (foreground; Ctrl-C ends it)
  status                      herd status, from the clients' namespace
  client NAME 'LINE' ...      herd client, from the clients' namespace
  cut NAME | heal NAME        take NAME's private interface down (silently) / up
  split A,B,... | join        move those hosts' peer ports to another bridge / back
  cut-link A B | heal-link A B          drop what A and B send each other / stop
  cut-one-way A B | heal-one-way A B    drop what A sends to B / stop
  flap A B [PERIOD_MS] [FOR_MS]         cut-link and heal-link every PERIOD_MS (2000) for FOR_MS (30000)
  kill NAME                   SIGKILL NAME's server (up restarts it after ${RESTART_DELAY_MS} ms)
  stop NAME | start NAME      SIGTERM NAME's server (a clean stop: not restarted) / start it again
  exec NAME CMD ...           run a command in NAME's namespace (NAME may be "clients")
  down                        remove the bed (what a killed "up" left behind)`;

function runIn(bed: NetnsBed, where: string, command: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('ip', bed.execArgs(where, command), { cwd: ROOT, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function up(args: string[]): Promise<number> {
  const clockOffsets: Record<string, string> = {};
  const peer: Record<string, number> = {};
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value = ''] = [args[i], args[i + 1]];
    if (flag === '--skew') {
      const [name = '', offset = ''] = value.split('=');
      clockOffsets[name] = offset;
    } else if (flag === '--heartbeat') peer.heartbeatIntervalMs = Number(value);
    else if (flag === '--dead-after') peer.deadAfterMs = Number(value);
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  const bed = await NetnsBed.create(DEFAULT_SERVERS, MANUAL_BED_ID);
  let herd: BedHerd | undefined;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('bed: stopping the servers and removing the namespaces\n');
    await herd?.stop(true);
    await bed.destroy();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  try {
    herd = await BedHerd.start(bed, { clockOffsets, peer, dir: MANUAL_BED_DIR });
  } catch (error) {
    await bed.destroy();
    throw error;
  }
  const running = herd;
  const watch = (name: string): void => {
    const server = running.servers.get(name);
    void server?.exited.then(() => {
      const { exitCode, signalCode } = server.process;
      const clean = exitCode === 0 || (signalCode !== null && ['SIGTERM', 'SIGINT', 'SIGHUP'].includes(signalCode));
      if (stopping || clean) {
        if (!stopping) process.stdout.write(`bed: ${name} stopped cleanly; not restarting it\n`);
        return;
      }
      process.stdout.write(`bed: ${name} exited; restarting it in ${RESTART_DELAY_MS} ms\n`);
      setTimeout(() => {
        running.startServer(name, clockOffsets[name]).then(
          () => {
            process.stdout.write(`bed: ${name} is back\n`);
            watch(name);
          },
          (error: unknown) => process.stdout.write(`bed: ${name} did not restart: ${String(error)}\n`),
        );
      }, RESTART_DELAY_MS);
    });
  };
  for (const host of bed.hosts.values()) {
    const skew = clockOffsets[host.name] === undefined ? '' : `  clock ${clockOffsets[host.name]}`;
    process.stdout.write(
      `  ${host.name.padEnd(9)} ns ${host.ns}  client ${host.clientAddress}:12000  peer ${host.peerAddress}:22000  admin http://${host.clientAddress}:12100${skew}\n`,
    );
    watch(host.name);
  }
  process.stdout.write(
    `bed: 5 servers up; config, logs and data in ${MANUAL_BED_DIR}; clients in namespace ${bed.clients} (${'10.77.0.200'}); Ctrl-C ends it\n`,
  );
  await new Promise(() => undefined);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const why = await whyNoNetns();
  if (why !== undefined) throw new Error(why);
  if (command === 'up') return up(args);
  if (command === 'down') {
    const removed = await cleanLeftoverBeds(MANUAL_BED_ID);
    process.stdout.write(`bed: removed ${removed.length} namespaces\n`);
    return 0;
  }
  const bed = await NetnsBed.attach(DEFAULT_SERVERS, MANUAL_BED_ID);
  const config = path.join(MANUAL_BED_DIR, 'herd.json');
  const [a = '', b = ''] = args;
  switch (command) {
    case 'status':
      return runIn(bed, 'clients', [process.execPath, CLI, 'status', '--config', config, ...args]);
    case 'client':
      return runIn(bed, 'clients', [process.execPath, CLI, 'client', a, ...args.slice(1), '--config', config]);
    case 'exec':
      return runIn(bed, a, args.slice(1));
    case 'cut':
      await bed.cut(a);
      break;
    case 'heal':
      await bed.heal(a);
      break;
    case 'split':
      await bed.split(a.split(','));
      break;
    case 'join':
      await bed.join();
      break;
    case 'cut-link':
      await bed.cutLink(a, b);
      break;
    case 'heal-link':
      await bed.healLink(a, b);
      break;
    case 'cut-one-way':
      await bed.cutOneWay(a, b);
      break;
    case 'heal-one-way':
      await bed.healOneWay(a, b);
      break;
    case 'flap': {
      const flaps = await bed.flap(a, b, {
        periodMs: Number(args[2] ?? 2000),
        durationMs: Number(args[3] ?? 30_000),
        onChange: (cut) => process.stdout.write(`bed: ${a}-${b} ${cut ? 'cut' : 'healed'}\n`),
      });
      process.stdout.write(`bed: ${flaps} flaps\n`);
      break;
    }
    case 'stop': {
      const pids = (await ip('netns', 'pids', bed.host(a).ns)).split('\n').filter((pid) => pid !== '');
      for (const pid of pids) process.kill(Number(pid), 'SIGTERM');
      process.stdout.write(`bed: SIGTERM to ${a} (pid ${pids.join(', ')})\n`);
      break;
    }
    case 'start': {
      // Detached, its output in <dir>/<name>.out: it outlives this command; "down" or Ctrl-C on "up" ends it.
      const outFile = path.join(MANUAL_BED_DIR, `${a}.out`);
      const out = openSync(outFile, 'w');
      const child = spawn('ip', bed.execArgs(a, [process.execPath, CLI, 'serve', a, '--config', config]), {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', out, out],
      });
      child.unref();
      for (let i = 0; i < 200 && !readFileSync(outFile, 'utf8').includes(' listening on '); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      process.stdout.write(readFileSync(outFile, 'utf8').trimEnd().split('\n').slice(-1)[0] + '\n');
      break;
    }
    case 'kill': {
      const pids = (await ip('netns', 'pids', bed.host(a).ns)).split('\n').filter((pid) => pid !== '');
      for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
      process.stdout.write(`bed: SIGKILLed ${a} (pid ${pids.join(', ')})\n`);
      break;
    }
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
  process.stdout.write(`bed: ${command} ${args.join(' ')}: done\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`bed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
