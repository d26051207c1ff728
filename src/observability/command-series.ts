/**
 * The series of `herd_commands_total`: every command kind and outcome, where each sits in the flat
 * array the metrics count into, and the pairs shown even at 0 (docs/observability.md).
 */
import {
  COMMAND_KINDS,
  COMMAND_OUTCOMES,
  OUTCOMES_OF_KIND,
  type CommandKind,
  type CommandOutcome,
} from '../server/commands/outcomes.js';

export { COMMAND_KINDS, COMMAND_OUTCOMES };

/** The position of each kind in {@link COMMAND_KINDS}. */
export const KIND_INDEX = Object.fromEntries(COMMAND_KINDS.map((kind, i) => [kind, i])) as Readonly<
  Record<CommandKind, number>
>;
/** The position of each outcome in {@link COMMAND_OUTCOMES}. */
export const OUTCOME_INDEX = Object.fromEntries(COMMAND_OUTCOMES.map((outcome, i) => [outcome, i])) as Readonly<
  Record<CommandOutcome, number>
>;
/** Command series shown even at 0, so a dashboard has a line from the first scrape: every outcome a kind can have. */
export const EXPECTED_COMMANDS: readonly (readonly [CommandKind, CommandOutcome])[] = COMMAND_KINDS.flatMap((kind) =>
  OUTCOMES_OF_KIND[kind].map((outcome) => [kind, outcome] as const),
);
