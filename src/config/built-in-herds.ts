/**
 * The herds shipped in `herds/` (docs/protocol.md "The herd"), in a module of their own so that the
 * command line can offer them (`--herd`) without loading the config schema.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Names of the herds shipped in `herds/`. */
export const BUILT_IN_HERDS = ['default', '2019', '2023'] as const;
export type BuiltInHerd = (typeof BUILT_IN_HERDS)[number];

/** The folder holding the shipped herd configs (`herds/` at the package root). */
export const HERDS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'herds');

/** Path of a shipped herd config. */
export function builtInHerdFile(name: BuiltInHerd): string {
  return path.join(HERDS_DIR, `${name}.json`);
}
