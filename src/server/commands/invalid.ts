/** Any line that is not a valid command (docs/protocol.md "Anything else"). */
import { formatInvalidReply, type InvalidCommand } from '../../protocol/commands.js';
import type { CommandReply } from './command.js';

/** Answers `? <line exactly as received>`, with the parser's reason for the log. */
export function invalid(command: InvalidCommand, line: string): CommandReply {
  return { reply: formatInvalidReply(line), outcome: 'invalid', reason: command.reason };
}
