/** The dispatch table of client commands: one handler per command kind, each in its own file. */
import type { ClientCommand } from '../../protocol/commands.js';
import type { CommandContext, CommandHandler, CommandKind, CommandReply, CommandTable } from './command.js';
import { iamat } from './iamat.js';
import { invalid } from './invalid.js';
import { whatsat } from './whatsat.js';

export type { CommandContext, CommandReply, CommandResult, CommandKind, CommandScratch } from './command.js';
export type { CommandOutcome } from './outcomes.js';

/** Every client command, by kind. */
export const COMMANDS: CommandTable = Object.freeze({ IAMAT: iamat, WHATSAT: whatsat, INVALID: invalid });

/** Runs `command` through its handler in `table` (default {@link COMMANDS}). */
export function dispatch(
  command: ClientCommand,
  context: CommandContext,
  table: CommandTable = COMMANDS,
): CommandReply {
  // The table maps each kind to the handler of exactly that kind, which TypeScript cannot follow
  // through an indexed access on a union; the cast restates what the table's type guarantees.
  const handler = table[command.kind] as unknown as CommandHandler<CommandKind>;
  return handler(command, context);
}
