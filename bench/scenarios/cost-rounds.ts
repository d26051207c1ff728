/**
 * How the cost scenario (./cost.ts, ./cost-light.ts) reads a noisy figure: in rounds, each round the
 * floor and then the figures on the same processes, so that a round's figures share the machine's
 * pace of the moment; a figure is the median of its rounds, and its ratio to the floor the median of
 * the rounds' own ratios (the issue's "medians of 3 alternating runs").
 */
import { median } from '../median.js';

/** Rounds of every cost figure in a full run (and in `--quick`). */
export const COST_ROUNDS = { full: 3, quick: 1 } as const;

/** A numeric field of `T`. */
type NumberKey<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];

/** What a figure's name says of its rounds: `, median of 3`, or nothing for one round. */
export function roundsLabel(rounds: readonly unknown[]): string {
  return rounds.length > 1 ? `, median of ${rounds.length}` : '';
}

/**
 * Every round's `key`, written by `format`, and with `floor` each round's ratio to its own floor,
 * for the table's spread column: `rounds 9.3, 8.0, 8.5 (4.7, 6.0, 6.7x)`; nothing for one round.
 */
export function roundsSpread<T>(
  rounds: readonly T[],
  key: NumberKey<T>,
  format: (value: number) => string,
  floor?: NumberKey<T>,
): string {
  if (rounds.length <= 1) return '';
  const values = rounds.map((round) => format(round[key] as number)).join(', ');
  if (floor === undefined) return `rounds ${values}`;
  const ratios = rounds.map((round) => ((round[key] as number) / (round[floor] as number)).toFixed(1)).join(', ');
  return `rounds ${values} (${ratios}x)`;
}

/** The median of `key` over `rounds` (at least one). */
export function roundsMedian<T>(rounds: readonly T[], key: NumberKey<T>): number {
  return median(rounds.map((round) => round[key] as number));
}

/**
 * The median over `rounds` (at least one) of each round's `key` divided by its own `floor`, to two
 * decimals.
 */
export function roundsRatio<T>(rounds: readonly T[], key: NumberKey<T>, floor: NumberKey<T>): number {
  return Math.round(median(rounds.map((round) => (round[key] as number) / (round[floor] as number))) * 100) / 100;
}
