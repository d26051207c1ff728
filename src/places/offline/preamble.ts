/**
 * The first {@link PREAMBLE_BYTES} bytes of a places data file (layout: data-format.ts) and their
 * check, with no imports, so that checking a data file at start (places/settings.ts) loads nothing
 * else.
 */

/** The first 8 bytes of every data file. */
export const PLACES_DATA_MAGIC = 'HERDPLCS';
/** The format version this code reads and writes. */
export const PLACES_DATA_VERSION = 1;
/** Bytes before the first section. */
export const PREAMBLE_BYTES = 64;

/**
 * What is wrong with a data file's first {@link PREAMBLE_BYTES} bytes, given the file's size: not a
 * data file at all (too short, no magic), another format version, or a header position that does not
 * match the size (truncated). Checked when a server loads the file and, synchronously, at start
 * (places/settings.ts), so a wrong file stops `herd start` before anything listens.
 *
 * @param preamble - the first bytes of the file (fewer when the file is shorter).
 * @returns the problem in words, with how to fix it, or undefined for a good preamble.
 */
export function preambleProblem(preamble: Buffer, size: number): string | undefined {
  if (size < PREAMBLE_BYTES || preamble.length < PREAMBLE_BYTES)
    return 'not a herd places data file (too short; make one with herd places import)';
  if (preamble.toString('latin1', 0, 8) !== PLACES_DATA_MAGIC)
    return 'not a herd places data file (make one with herd places import)';
  const version = preamble.readUInt32LE(8);
  if (version !== PLACES_DATA_VERSION)
    return `format version ${version}, this herd reads version ${PLACES_DATA_VERSION}: import the data again`;
  const headerBytes = preamble.readUInt32LE(12);
  const at = preamble.readDoubleLE(16);
  if (!Number.isSafeInteger(at) || at < PREAMBLE_BYTES || at + headerBytes !== size)
    return 'truncated or corrupt (header position does not match the file size): import the data again';
  return undefined;
}
