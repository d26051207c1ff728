/**
 * The error family of herd. Every condition a caller may handle is one of these classes, each with a
 * stable `code` (for logs and tests) and an optional `cause`.
 */

/** Options accepted by every {@link HerdError}. */
export interface HerdErrorOptions {
  /** The lower-level error that led to this one. */
  cause?: unknown;
}

/** Base class: `name` is the class name, `code` a stable UPPER_SNAKE identifier. */
export class HerdError extends Error {
  /** Stable machine-readable identifier, e.g. `HERD_CONFIG_INVALID`. */
  readonly code: string;

  constructor(code: string, message: string, options: HerdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A herd config file is missing, is not JSON, or breaks a rule. The message names the file and the
 * field (e.g. `herds/default.json: links[2][1]: unknown server "Balll"`).
 */
export class ConfigError extends HerdError {
  /** The config file the error is about, or `<inline>` for an object given in code. */
  readonly file: string;

  constructor(file: string, message: string, options: HerdErrorOptions = {}) {
    super('HERD_CONFIG_INVALID', `${file}: ${message}`, options);
    this.file = file;
  }
}

/** A command-line usage error (unknown server name, bad `host:port`, ...). */
export class UsageError extends HerdError {
  constructor(message: string, options: HerdErrorOptions = {}) {
    super('HERD_USAGE', message, options);
  }
}

/** A places source could not answer (timeout, network, upstream status). */
export class PlacesError extends HerdError {
  /** The legacy Nearby Search `status` this failure maps to, e.g. `UNKNOWN_ERROR`. */
  readonly status: string;

  constructor(status: string, message: string, options: HerdErrorOptions = {}) {
    super('HERD_PLACES_FAILED', message, options);
    this.status = status;
  }
}

/**
 * The dashboard cannot take a request now (codes `HERD_DASHBOARD_BUSY`: too many snapshot requests
 * waiting; `HERD_DASHBOARD_NOT_READY`: used before its server was attached). Answered 503.
 */
export class DashboardBusyError extends HerdError {}
