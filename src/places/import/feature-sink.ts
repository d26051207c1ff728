/**
 * Where the input readers of `herd places import` send what they read: kept places, skipped features
 * (with a reason) and invalid ones (which stop the import, or with `--skip-invalid` are counted).
 */
import type { ImportError } from '../../errors.js';
import type { ImportedPlace } from './place-sorter.js';

/** The receiving end of one input's features. */
export interface FeatureSink {
  /** A valid feature, to be put in the data file. */
  keep(place: ImportedPlace): void;
  /** A well-formed feature that is not a place, e.g. `geometry is not a Point`. */
  skip(reason: string): void;
  /**
   * A malformed feature.
   *
   * @throws {ImportError} `error` itself, unless the import runs with `--skip-invalid`.
   */
  invalid(error: ImportError): void;
  /** Input bytes consumed (uncompressed), for the progress bar. */
  consumed(bytes: number): void;
}
