/**
 * Every client command kind and the outcomes each can end with: the one list. The outcome type, the
 * layout of `herd_commands_total` (src/observability/command-series.ts) and the series it shows even
 * at 0 all derive from it (docs/observability.md "Metrics").
 */
import type { ClientCommand } from '../../protocol/commands.js';

/** Which client command a line was. */
export type CommandKind = ClientCommand['kind'];

/**
 * The outcomes of each command kind, as its handler (or the session) labels them: `ok`; `invalid`
 * (answered `?`: bad verb, operands or ranges); `unknown_client` (WHATSAT for a client id no server
 * has heard of); `clock_skew` (IAMAT too far in the future); `client_id_too_long` (over
 * `limits.maxClientIdBytes`); `line_too_long` (over `limits.maxLineBytes`; the connection is closed);
 * `error` (the reply could not be produced and `?` was sent); `store_unavailable` (an IAMAT with
 * `store.sync` whose commit failed: no reply, the connection was closed).
 */
export const OUTCOMES_OF_KIND = {
  IAMAT: ['ok', 'clock_skew', 'client_id_too_long', 'error', 'store_unavailable'],
  WHATSAT: ['ok', 'unknown_client', 'client_id_too_long', 'error'],
  INVALID: ['invalid', 'line_too_long'],
} as const satisfies Readonly<Record<CommandKind, readonly string[]>>;

/** How a client command ended (see {@link OUTCOMES_OF_KIND}). */
export type CommandOutcome = (typeof OUTCOMES_OF_KIND)[CommandKind][number];

/** Every command kind, in the order of {@link OUTCOMES_OF_KIND}. */
export const COMMAND_KINDS = Object.freeze(Object.keys(OUTCOMES_OF_KIND)) as readonly CommandKind[];

/** Every {@link CommandOutcome} once, in the order metrics list them. */
export const COMMAND_OUTCOMES: readonly CommandOutcome[] = Object.freeze([
  ...new Set(Object.values(OUTCOMES_OF_KIND).flat()),
]);
