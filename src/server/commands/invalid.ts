/** Any line that is not a valid command (docs/protocol.md#anything-else). */
import type { InvalidCommand } from '../../protocol/commands.js';
import type { CommandReply } from './command.js';

/** Refuses the line (the session answers `? <line exactly as received>`), with the parser's reason for the log. */
export function invalid(command: InvalidCommand): CommandReply {
  return { reply: undefined, outcome: 'invalid', reason: command.reason };
}
