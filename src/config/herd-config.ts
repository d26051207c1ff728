/**
 * The herd config file: read, parsed, validated against the schema (herd-schema.ts) and the rules
 * between fields (herd-checks.ts), with input paths resolved. Every error is one line that names the
 * file and the field and says the fix (config-messages.ts), e.g. `herd.json: links[2][1]: unknown
 * server "Balll" (did you mean "Ball"? ...)`.
 */
import { PARSE_ONCE } from '../core/parse-once.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { resolveAdminFiles } from './admin-config.js';
import { GOOGLE_PLACES_API_KEY_ENV } from '../places/settings.js';
import { jsonErrorMessage, schemaIssueMessage, unreadableFileMessage } from './config-messages.js';
import { checkHerdConfig } from './herd-checks.js';
import { herdConfigSchema, type HerdConfig } from './herd-schema.js';

export {
  PEER_PORT_OFFSET,
  herdConfigSchema,
  placesConfigSchema,
  type HerdConfig,
  type ServerConfig,
} from './herd-schema.js';
export { BUILT_IN_HERDS, HERDS_DIR, builtInHerdFile, type BuiltInHerd } from './shipped-herds.js';

/**
 * Validates a parsed config object.
 *
 * @param raw - the parsed JSON.
 * @param file - the file it came from, for error messages.
 * @throws {ConfigError} naming the file and field: schema violations (an unknown key with the nearest
 *   known one), a Google API key in the file, and the rules between fields of herd-checks.ts.
 */
export function validateHerdConfig(raw: unknown, file: string): HerdConfig {
  // The key lives only in the environment (docs/protocol.md "Logs"): say so rather than "unrecognized key".
  const rawPlaces = raw !== null && typeof raw === 'object' ? (raw as { places?: unknown }).places : undefined;
  if (rawPlaces !== null && typeof rawPlaces === 'object') {
    for (const field of ['apiKey', 'key', 'api_key']) {
      if (field in rawPlaces)
        throw new ConfigError(
          file,
          `places.${field}: the Google API key is read only from the environment variable ${GOOGLE_PLACES_API_KEY_ENV}; remove it from the config file`,
        );
    }
  }
  const result = herdConfigSchema.safeParse(raw, PARSE_ONCE);
  if (!result.success)
    throw new ConfigError(file, schemaIssueMessage(herdConfigSchema, result.error.issues, raw), {
      cause: result.error,
    });
  checkHerdConfig(result.data, file);
  return result.data;
}

/**
 * Reads and validates a herd config file.
 *
 * @throws {ConfigError} when the file cannot be read (for a missing one, naming the shipped herds),
 *   is not JSON (with the line, column and the line quoted), or is invalid.
 */
export function loadHerdConfig(file: string): HerdConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, unreadableFileMessage(file, (error as NodeJS.ErrnoException).code ?? String(error)), {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, jsonErrorMessage(text, error), { cause: error });
  }
  const config = validateHerdConfig(raw, file);
  // Files the config names as inputs resolve against its own folder; output folders (logDir,
  // dataDir) against the working directory.
  const here = path.dirname(path.resolve(file));
  if (config.secretFile !== undefined) config.secretFile = path.resolve(here, config.secretFile);
  config.places.data = path.resolve(here, config.places.data);
  resolveAdminFiles(config.admin, here);
  if (config.tls !== undefined) {
    config.tls.certFile = path.resolve(here, config.tls.certFile);
    config.tls.keyFile = path.resolve(here, config.tls.keyFile);
    if (config.tls.caFile !== undefined) config.tls.caFile = path.resolve(here, config.tls.caFile);
  }
  return config;
}

/** The neighbours of `serverName`: every server it shares a link with, in link order. */
export function neighboursOf(config: HerdConfig, serverName: string): string[] {
  const out: string[] = [];
  for (const [a, b] of config.links) {
    if (a === serverName) out.push(b);
    else if (b === serverName) out.push(a);
  }
  return out;
}
