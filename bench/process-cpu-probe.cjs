/**
 * A preload that says where a test file's CPU goes, by process and by phase (docs/benchmarks.md
 * "The integration files' CPU (2026-12-03)"). Put in `NODE_OPTIONS` (`--require
 * /abs/path/bench/process-cpu-probe.cjs`), it is inherited by the test process, `herd start` and
 * every server: with HERD_BENCH_CPU_FILE set, each Node process appends one JSON line to that file
 * at its exit, `{"argv", "pid", "listen", "listenAt", "term", "termAt", "exit", "exitAt", "code"}`:
 * its CPU (user + system, all its threads, ms) when its first TCP server listened, when a `herd
 * serve` got SIGTERM, and at exit, each with its time since the preload ran (ms). A process ended by
 * SIGKILL writes nothing. Summarize with `node --import tsx bench/process-cpu-summary.ts FILE`.
 * CommonJS and `--require`, not an ES module: the ES module loader would cost every process more
 * than it shows. Without HERD_BENCH_CPU_FILE the preload does nothing.
 */
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const { isMainThread } = require('node:worker_threads');

const file = process.env.HERD_BENCH_CPU_FILE;
if (file !== undefined && file !== '' && isMainThread) {
  const started = Date.now();
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return Math.round((user + system) / 1000);
  };
  const argv = process.argv
    .slice(1)
    .map((arg) => arg.replace(/.*\//, ''))
    .join(' ');
  const row = {};
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...args) {
    this.once('listening', () => {
      if (row.listen !== undefined) return;
      row.listen = cpuMs();
      row.listenAt = Date.now() - started;
    });
    return listen.apply(this, args);
  };
  // Only a server: it has its own SIGTERM handler, so this listener does not keep anything alive.
  if (process.argv.includes('serve'))
    process.prependListener('SIGTERM', () => {
      row.term = cpuMs();
      row.termAt = Date.now() - started;
    });
  process.on('exit', (code) => {
    row.exit = cpuMs();
    row.exitAt = Date.now() - started;
    row.code = code;
    fs.appendFileSync(file, `${JSON.stringify({ argv, pid: process.pid, ...row })}\n`);
  });
}
