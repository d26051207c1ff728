/**
 * Reading a secret setting (the herd secret, the admin tokens) from where operators keep secrets:
 * an environment variable holding the value, an environment variable naming a file (systemd's
 * `LoadCredential`), or a file the config names. Never logged, never sent.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** Where one secret may come from, in order of precedence, and what it must be. */
export interface SecretSource {
  /** What the secret is, for error messages (e.g. `the herd secret`). */
  readonly what: string;
  /** Environment variable holding the secret itself (e.g. `HERD_SECRET`). */
  readonly valueEnv: string;
  /** Environment variable naming a file that holds it (e.g. `HERD_SECRET_FILE`). */
  readonly fileEnv: string;
  /** The config's file field, resolved (e.g. `secretFile`), if set. */
  readonly file: string | undefined;
  /** Shortest value accepted, in bytes. */
  readonly minBytes: number;
  /** What else the value must be, as a phrase after "must be" (e.g. for an HTTP header), with its test. */
  readonly shape?: { readonly test: RegExp; readonly says: string };
}

/**
 * Loads a secret: the value of `valueEnv`, else the file named by `fileEnv`, else `file`. Surrounding
 * white space (a trailing newline in a file) is removed. An empty environment variable counts as
 * unset.
 *
 * @returns the secret, or `undefined` when none of the three is set.
 * @throws {ConfigError} naming the file when it cannot be read, or naming the source when the
 *   secret is shorter than `minBytes` or not of its `shape`.
 */
export function loadSecretValue(source: SecretSource, env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const value = env[source.valueEnv];
  let text: string;
  let from: string;
  if (value !== undefined && value !== '') {
    text = value;
    from = source.valueEnv;
  } else {
    const named = env[source.fileEnv];
    const file = named !== undefined && named !== '' ? named : source.file;
    if (file === undefined) return undefined;
    from = file;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(file, `cannot read ${source.what}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const secret = Buffer.from(text.trim(), 'utf8');
  if (secret.length < source.minBytes) {
    throw new ConfigError(from, `${source.what} must be at least ${source.minBytes} bytes (got ${secret.length})`);
  }
  if (source.shape !== undefined && !source.shape.test.test(secret.toString('latin1')))
    throw new ConfigError(from, `${source.what} must be ${source.shape.says}`);
  return secret;
}
