/**
 * The herd secret: the shared key that authenticates links (docs/operations.md "Limits and
 * security"). Read from the environment or a file; never logged, never sent.
 */
import { loadSecretValue } from '../config/secret-value.js';

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
  return loadSecretValue(
    {
      what: 'the herd secret',
      valueEnv: HERD_SECRET_ENV,
      fileEnv: HERD_SECRET_FILE_ENV,
      file: secretFile,
      minBytes: MIN_SECRET_BYTES,
    },
    env,
  );
}
