/**
 * The error family of herd. Every condition a caller may handle is one of these classes, each with a
 * stable `code` (for logs and tests) and an optional `cause`. The command line prints one of them as
 * one line, `herd: <message>`, and exits with {@link exitCodeOf} (README "The command line").
 */

/** Exit code of a failure at run time: a port in use, a server that does not answer, a `? ` reply. */
export const EXIT_RUNTIME = 1;
/** Exit code of a usage or config mistake: a bad flag, config, or data file, found before anything runs. */
export const EXIT_USAGE = 2;

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

/** An error about one file ({@link ConfigError}, {@link PlacesDataError}): the message is `<file>: <message>`. */
export class FileError extends HerdError {
  /** The file the error is about. */
  readonly file: string;

  constructor(code: string, file: string, message: string, options: HerdErrorOptions = {}) {
    super(code, `${file}: ${message}`, options);
    this.file = file;
  }
}

/**
 * A herd config file is missing, is not JSON, or breaks a rule. The message names the file (`file`:
 * the config file, or `<inline>` for an object given in code) and the field (e.g.
 * `herds/default.json: links[2][1]: unknown server "Balll"`).
 */
export class ConfigError extends FileError {
  constructor(file: string, message: string, options: HerdErrorOptions = {}) {
    super('HERD_CONFIG_INVALID', file, message, options);
  }
}

/** A command-line usage error (unknown server name, bad `host:port`, a missing `--out` folder, ...). */
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

/** Where in an import input a problem is: the file, and the line (text dumps) or feature (GeoJSON). */
export interface ImportErrorLocation {
  /** The input, as given on the command line; for a zip entry `US.zip:US.txt`. */
  readonly file: string;
  /** 1-based line number in a text dump. */
  readonly line?: number;
  /** 0-based index in a GeoJSON FeatureCollection's `features` array. */
  readonly feature?: number;
  /** The column or property at fault, e.g. `latitude` or `properties.name`. */
  readonly field?: string;
}

/**
 * An input of `herd places import` is malformed: the message names the file, the line (or feature
 * index) and the field, e.g. `US.zip:US.txt: line 12: latitude: "91.5" is not a number in [-90, 90]`.
 */
export class ImportError extends HerdError {
  readonly file: string;
  readonly line: number | undefined;
  readonly feature: number | undefined;
  readonly field: string | undefined;
  /** The message without its location. */
  readonly detail: string;

  constructor(location: ImportErrorLocation, message: string, options: HerdErrorOptions = {}) {
    const where = [
      location.file,
      location.line === undefined ? undefined : `line ${location.line}`,
      location.feature === undefined ? undefined : `feature ${location.feature}`,
      location.field,
    ].filter((part) => part !== undefined);
    super('HERD_IMPORT_INVALID', `${where.join(': ')}: ${message}`, options);
    this.file = location.file;
    this.line = location.line;
    this.feature = location.feature;
    this.field = location.field;
    this.detail = message;
  }

  /** The same error with `; <hint>` after its message (e.g. how to go on past it). */
  withHint(hint: string): ImportError {
    return new ImportError(this, `${this.detail}; ${hint}`, { cause: this.cause });
  }
}

/** A places data file (`places.data`, `--places-data`) is missing, truncated or not in herd's format. */
export class PlacesDataError extends FileError {
  constructor(file: string, message: string, options: HerdErrorOptions = {}) {
    super('HERD_PLACES_DATA_INVALID', file, message, options);
  }
}

/**
 * A port cannot be bound (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`): the message names the port, its
 * role (client, peer or admin port) and the fix. Exit code 1 ({@link EXIT_RUNTIME}).
 */
export class PortError extends HerdError {
  constructor(message: string, options: HerdErrorOptions = {}) {
    super('HERD_PORT_UNAVAILABLE', message, options);
  }
}

/**
 * The exit code of the command line for an error: {@link EXIT_USAGE} (2) for a usage, config or
 * places data file mistake (found before anything listens), {@link EXIT_RUNTIME} (1) for the rest.
 */
export function exitCodeOf(error: HerdError): number {
  return error instanceof ConfigError || error instanceof UsageError || error instanceof PlacesDataError
    ? EXIT_USAGE
    : EXIT_RUNTIME;
}

/**
 * The dashboard cannot take a request now (codes `HERD_DASHBOARD_BUSY`: too many snapshot requests
 * waiting; `HERD_DASHBOARD_NOT_READY`: used before its server was attached). Answered 503.
 */
export class DashboardBusyError extends HerdError {}

/**
 * Why a durable store could not commit (docs/operations.md "When the store cannot write"): `full`
 * (no space left), `read_only` (the file system or the file refuses writes), `missing` (the file or
 * its data directory is gone), `corrupt` (SQLite found a damaged page), `locked` (another process
 * held the write lock past `BUSY_TIMEOUT_MS`), `writer_exited` (the writer thread died), `overflow`
 * (the rows waited past `MAX_PENDING_ROWS` and were dropped from the queue), `io` (any other I/O
 * error).
 */
export type StoreFailureReason =
  'full' | 'read_only' | 'missing' | 'corrupt' | 'locked' | 'writer_exited' | 'overflow' | 'io';

/** Every {@link StoreFailureReason}, in the order metrics list them. */
export const STORE_FAILURE_REASONS: readonly StoreFailureReason[] = [
  'full',
  'read_only',
  'missing',
  'corrupt',
  'locked',
  'writer_exited',
  'overflow',
  'io',
];

/**
 * An update could not be made durable (code `HERD_STORE_UNAVAILABLE`): the commit that carried it
 * failed. With `store.sync` the IAMAT that waits for it is not acknowledged: its connection is closed
 * without a reply (docs/protocol.md "IAMAT"), so the client retries, at another server if it likes.
 */
export class StoreUnavailableError extends HerdError {
  /** What went wrong, as the `reason` label of `herd_store_commit_failures_total`. */
  readonly reason: StoreFailureReason;

  constructor(reason: StoreFailureReason, message: string, options: HerdErrorOptions = {}) {
    super('HERD_STORE_UNAVAILABLE', message, options);
    this.reason = reason;
  }
}
