/**
 * Config sections that make a test herd cheaper where the test's claim allows it (docs/deploy.md
 * "The test bed" says which files use them, and why). Spread into `tempHerdConfig({ extra })`.
 *
 * - {@link QUIET_LOG}: for a herd whose test reads no `info` log line (the files that read log
 *   lines, or wait on them, keep the product's `info`). Writing every line in and out is about a
 *   tenth of a busy server's CPU.
 * - {@link MEMORY_STORE}: for a herd whose claim is not about the store. The store's own claims
 *   (power-cut, disk-full, store-faults, restart-from-file, sync) keep the durable store.
 */

/** Top-level config: log `warn` and worse only (config `logLevel`, @default 'info'). */
export const QUIET_LOG = { logLevel: 'warn' } as const;

/** The `store` section of a table kept in memory only (config `store.durable`, @default true). */
export const MEMORY_STORE = { durable: false } as const;
