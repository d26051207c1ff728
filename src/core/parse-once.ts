/**
 * The options of a zod parse that runs once per process (the config, a places data file's header,
 * the runtime file): without zod's fast path, which compiles a parser for each object schema with
 * `new Function` at its first parse. Once, that compile costs more than it saves: 15-20 ms of a
 * server's start (docs/benchmarks.md "Startup").
 */
export const PARSE_ONCE = { jitless: true } as const;
