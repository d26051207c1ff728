/**
 * A preload for bench/herd-start-timeline.ts (`node --require bench/start-timeline-probe.cjs
 * dist/bundle/main.js start ...`; `herd start` passes its node flags on to the servers it forks).
 * With HERD_BENCH_TIMELINE_FILE set, the main thread of each process appends one line per moment of
 * its start to that file, `<epoch ms> <CPU ms> <pid> <event> [detail]` (the process's own CPU,
 * user + system, all threads, so far), on the wall clock every process
 * shares (`performance.timeOrigin + performance.now()`): `node` (the process began, V8's time
 * origin), `preload` (Node is up, the program not yet read), `config` (the first read of
 * HERD_BENCH_TIMELINE_CONFIG), `fork <server>` and `forked <pid>` (the supervisor's
 * `child_process.fork`, before and after), `listening <port>` (a TCP port bound). CommonJS and
 * `--require`, not an ES module: the ES module loader would cost every process more than it shows.
 * Without HERD_BENCH_TIMELINE_FILE the preload does nothing.
 */
'use strict';
const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');

const file = process.env.HERD_BENCH_TIMELINE_FILE;
if (file !== undefined && file !== '' && isMainThread) {
  const configFile = process.env.HERD_BENCH_TIMELINE_CONFIG;
  const now = () => performance.timeOrigin + performance.now();
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const note = (event, at = now(), cpu = cpuMs()) =>
    fs.appendFileSync(file, `${at.toFixed(1)} ${cpu.toFixed(1)} ${process.pid} ${event}\n`);
  note('node', performance.timeOrigin, 0);
  note('preload');
  const childProcess = require('node:child_process');
  const fork = childProcess.fork;
  childProcess.fork = function (modulePath, args, ...rest) {
    note(`fork ${Array.isArray(args) ? args[1] : '?'}`);
    const child = fork.call(this, modulePath, args, ...rest);
    note(`forked ${child.pid}`);
    return child;
  };
  const readFileSync = fs.readFileSync;
  let configRead = false;
  fs.readFileSync = function (target, ...rest) {
    if (!configRead && target === configFile) {
      configRead = true;
      note('config');
    }
    return readFileSync.call(this, target, ...rest);
  };
  const net = require('node:net');
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...args) {
    this.once('listening', () => {
      const address = this.address();
      if (address !== null && typeof address === 'object') note(`listening ${address.port}`);
    });
    return listen.apply(this, args);
  };
}
