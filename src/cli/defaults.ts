/**
 * The command line's defaults, in a module without imports: `herd --help` and the option parsing
 * (src/cli/main.ts) load nothing else, and each command's module loads only when that command runs.
 */

/** Default `herd start --restart-delay`: the wait before restarting a server that exited, ms. */
export const RESTART_DELAY_MS = 1000;

/** Default `herd client --timeout`: give up when the server is silent this long, ms. */
export const CLIENT_TIMEOUT_MS = 15_000;

/** Default `herd status --timeout`: longest wait for one server's answer, ms. */
export const STATUS_TIMEOUT_MS = 1000;
