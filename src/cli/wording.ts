/** How the command line words recurring things in its messages: counts, and follow-up commands. */
import path from 'node:path';
import { BUILT_IN_HERDS, builtInHerdFile } from '../config/shipped-herds.js';

/** `1 server`, `5 servers`. */
export function countServers(n: number): string {
  return `${n} server${n === 1 ? '' : 's'}`;
}

/**
 * `herd <command>` with the flag that names the same herd, e.g. `herd stop --config my.json`: none
 * for the default herd, `--herd NAME` for another shipped one, `--config FILE` otherwise.
 */
export function commandHint(command: string, configFile: string): string {
  const file = path.resolve(configFile);
  if (file === builtInHerdFile('default')) return `herd ${command}`;
  const shipped = BUILT_IN_HERDS.find((name) => builtInHerdFile(name) === file);
  return shipped === undefined ? `herd ${command} --config ${configFile}` : `herd ${command} --herd ${shipped}`;
}
