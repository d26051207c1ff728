/**
 * The floor of a whole herd's start (bench/scenarios/startup.ts): `node bench/floor-herd.cjs PORT ...`
 * is a bare supervisor that forks one bare listener per port, each as `herd start` forks its servers
 * (src/cli/start.ts: `child_process.fork`, its own process group, stdio ignore/inherit/inherit/ipc,
 * the supervisor's environment), waits for every one to say over IPC that it listens, and prints
 * `floor herd up`. A listener (`node bench/floor-herd.cjs --listen PORT`) only listens on
 * 127.0.0.1:PORT. No config, no code beyond Node's own: what five forked Node processes cost on this
 * machine. SIGTERM stops the listeners, then the supervisor.
 */
'use strict';
const { fork } = require('node:child_process');
const net = require('node:net');

if (process.argv[2] === '--listen') {
  const server = net.createServer((socket) => socket.destroy());
  server.listen(Number(process.argv[3]), '127.0.0.1', () => process.send?.({ type: 'listening' }));
  process.on('disconnect', () => process.exit(0));
} else {
  const ports = process.argv.slice(2);
  const children = ports.map((port) =>
    fork(__filename, ['--listen', port], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true }),
  );
  let waiting = children.length;
  for (const child of children)
    child.once('message', () => {
      if (--waiting === 0) process.stdout.write('floor herd up\n');
    });
  // Ends once every listener has: the next start meets no leftover process.
  process.on('SIGTERM', () => {
    for (const child of children) child.kill('SIGTERM');
    Promise.all(children.map((child) => child.exitCode ?? new Promise((resolve) => child.once('exit', resolve))))
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  });
}
