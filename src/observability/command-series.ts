/**
 * The series of `herd_commands_total`: every command kind and outcome, where each sits in the flat
 * array the metrics count into, and the pairs shown even at 0 (docs/observability.md).
 */
import { COMMAND_OUTCOMES, type CommandKind, type CommandOutcome } from './observer.js';

export { COMMAND_OUTCOMES };

/** Every command kind, in the order the command counters are laid out. */
export const COMMAND_KINDS: readonly CommandKind[] = ['IAMAT', 'WHATSAT', 'INVALID'];
/** The position of each kind in {@link COMMAND_KINDS}. */
export const KIND_INDEX = Object.fromEntries(COMMAND_KINDS.map((kind, i) => [kind, i])) as Readonly<
  Record<CommandKind, number>
>;
/** The position of each outcome in {@link COMMAND_OUTCOMES}. */
export const OUTCOME_INDEX = Object.fromEntries(COMMAND_OUTCOMES.map((outcome, i) => [outcome, i])) as Readonly<
  Record<CommandOutcome, number>
>;
/** Command series shown even at 0, so a dashboard has a line from the first scrape. */
export const EXPECTED_COMMANDS: readonly (readonly [CommandKind, CommandOutcome])[] = [
  ['IAMAT', 'ok'],
  ['IAMAT', 'clock_skew'],
  ['IAMAT', 'client_id_too_long'],
  ['IAMAT', 'error'],
  ['IAMAT', 'store_unavailable'],
  ['WHATSAT', 'ok'],
  ['WHATSAT', 'unknown_client'],
  ['WHATSAT', 'client_id_too_long'],
  ['WHATSAT', 'error'],
  ['INVALID', 'invalid'],
  ['INVALID', 'line_too_long'],
];
