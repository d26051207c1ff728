/**
 * How the cost scenario (./cost.ts, ./cost-light.ts) reads a noisy figure: in rounds, each round the
 * floor and then the figures on the same processes, so that a round's figures share the machine's
 * pace of the moment; a figure is the median of its rounds, and its ratio to the floor the median of
 * the rounds' own ratios (the issue's "medians of 3 alternating runs").
 */
import { median } from './startup-report.js';

/** Rounds of every cost figure in a full run (and in `--quick`). */
export const COST_ROUNDS = { full: 3, quick: 1 } as const;

/** The median of `key` over `rounds` (at least one). */
export function roundsMedian<T>(
  rounds: readonly T[],
  key: { [K in keyof T]: T[K] extends number ? K : never }[keyof T],
): number {
  return median(rounds.map((round) => round[key] as number));
}

/**
 * The median over `rounds` (at least one) of each round's `key` divided by its own `floor`, to two
 * decimals.
 */
export function roundsRatio<T>(
  rounds: readonly T[],
  key: { [K in keyof T]: T[K] extends number ? K : never }[keyof T],
  floor: { [K in keyof T]: T[K] extends number ? K : never }[keyof T],
): number {
  return Math.round(median(rounds.map((round) => (round[key] as number) / (round[floor] as number))) * 100) / 100;
}
