/** TLS settings from the herd config, read into Node's option objects. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { ConfigError } from '../errors.js';
import type { HerdConfig } from './herd-config.js';

/** What a server needs: options for its TLS listener and for the links it dials. */
export interface TlsOptions {
  readonly server: tls.SecureContextOptions;
  readonly client: tls.ConnectionOptions;
}

/**
 * Reads the PEM files named by the config's `tls` section. Relative paths resolve against the
 * config file's folder.
 *
 * @throws {ConfigError} naming the field when a file cannot be read.
 */
export function loadTlsOptions(settings: NonNullable<HerdConfig['tls']>, configFile: string): TlsOptions {
  const read = (field: string, file: string): Buffer => {
    const resolved = path.resolve(path.dirname(configFile), file);
    try {
      return readFileSync(resolved);
    } catch (error) {
      throw new ConfigError(
        configFile,
        `tls.${field}: cannot read ${resolved}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  };
  const cert = read('certFile', settings.certFile);
  const key = read('keyFile', settings.keyFile);
  const ca = settings.caFile === undefined ? undefined : read('caFile', settings.caFile);
  return {
    server: { cert, key },
    // Links present the same certificate and verify the neighbour's against the CA.
    client: { cert, key, ca, rejectUnauthorized: true },
  };
}
