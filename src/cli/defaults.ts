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

/** Longest wait of `herd start` for a server to exit after SIGTERM before it is killed, ms. */
export const SERVER_STOP_TIMEOUT_MS = 5000;

/**
 * Default `herd stop --timeout`: the supervisor's own wait for its servers
 * ({@link SERVER_STOP_TIMEOUT_MS}, after which it kills them) and 5 s more, ms.
 */
export const STOP_TIMEOUT_MS = SERVER_STOP_TIMEOUT_MS + 5000;
