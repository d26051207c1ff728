/** The median of a bench's repeated readings: rounds, starts, runs. */

/**
 * The middle value of `values` (the mean of the two middle ones for an even count); `values` is
 * not reordered. NaN for no values.
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
