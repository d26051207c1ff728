/**
 * Node built-ins that only some configurations use, loaded the first time they are asked for instead
 * of when the module graph loads: `node:tls` (with a `tls` section in the config) is a few dozen of
 * Node's internal modules that a server without TLS never needs before it listens
 * (docs/benchmarks.md "Startup"). Each call returns Node's one cached instance of the module.
 */
import { createRequire } from 'node:module';
import type Tls from 'node:tls';

const requireBuiltin = createRequire(import.meta.url);

/** `node:tls`, loaded at the first call. */
export function nodeTls(): typeof Tls {
  return requireBuiltin('node:tls') as typeof Tls;
}
