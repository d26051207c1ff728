/**
 * A process that binds an admin port with AdminListener (src/observability/admin-listener.ts), then
 * lowers its own descriptor limit to what it has open plus `HEADROOM` (argv[2]), for the test that
 * runs it out of descriptors before the hand-over (test/integration/admin-listener-emfile.test.ts).
 *
 * stdout: `port <n>` once bound and limited; on a line on stdin it hands the port to an HTTP server
 * answering `ok`, then prints `handed`.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { AdminListener } from '../../src/observability/admin-listener.js';

const headroom = Number(process.argv[2] ?? 8);
const listener = await AdminListener.bind('127.0.0.1', 0);
const open = readdirSync('/proc/self/fd').length;
execFileSync('prlimit', [`--pid=${process.pid}`, `--nofile=${open + headroom}`]);
process.stdout.write(`port ${listener.address.port}\n`);
process.stdin.once('data', () => {
  const server = http.createServer((_request, response) => response.end('ok'));
  void listener.handTo(server).then(() => process.stdout.write('handed\n'));
});
