/**
 * The herds shipped in `herds/` (docs/protocol.md "The herd"), for `--herd NAME` and for the message
 * about a config file that does not exist. No other imports, so the command line can load it cheaply.
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
