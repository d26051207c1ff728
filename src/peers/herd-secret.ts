/**
 * The herd secret: the shared key that authenticates links (docs/operations.md "Limits and
 * security"). Read from the environment or a file; never logged, never sent.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** Environment variable holding the secret itself. */
export const HERD_SECRET_ENV = 'HERD_SECRET';
/** Environment variable naming a file that holds the secret. */
export const HERD_SECRET_FILE_ENV = 'HERD_SECRET_FILE';
/** Shortest secret accepted, in bytes (128 bits). */
export const MIN_SECRET_BYTES = 16;

/**
 * Loads the herd secret: `HERD_SECRET`, else the file named by `HERD_SECRET_FILE`, else the config's
 * `secretFile`. Surrounding white space (a trailing newline in a file) is removed.
 *
 * @param secretFile - the config's `secretFile`, if any.
 * @returns the secret, or `undefined` when none is configured (development mode).
 * @throws {ConfigError} when the file cannot be read or the secret is shorter than {@link MIN_SECRET_BYTES}.
 */
export function loadHerdSecret(
  secretFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Buffer | undefined {
  let text: string | undefined;
  let source: string;
  if (env[HERD_SECRET_ENV] !== undefined && env[HERD_SECRET_ENV] !== '') {
    text = env[HERD_SECRET_ENV];
    source = HERD_SECRET_ENV;
  } else {
    const file =
      env[HERD_SECRET_FILE_ENV] !== undefined && env[HERD_SECRET_FILE_ENV] !== ''
        ? env[HERD_SECRET_FILE_ENV]
        : secretFile;
    if (file === undefined) return undefined;
    source = file;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(file, `cannot read the herd secret: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const secret = Buffer.from((text ?? '').trim(), 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ConfigError(source, `the herd secret must be at least ${MIN_SECRET_BYTES} bytes (got ${secret.length})`);
  }
  return secret;
}
