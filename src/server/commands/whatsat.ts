/** `WHATSAT <client id> <radius km> <bound>`: what is near a client (docs/protocol.md "WHATSAT"). */
import { formatInvalidReply, formatWhatsatReply, type WhatsatCommand } from '../../protocol/commands.js';
import type { CommandContext, CommandReply } from './command.js';

/**
 * Answers with the client's stored AT line and the places within the radius, at most `bound`, as a
 * Nearby Search document. A client id no server has heard of gets `? ` (`unknown_client`). A failing
 * places source still gets the AT line and a document whose `status` says what went wrong.
 */
export function whatsat(command: WhatsatCommand, line: string, context: CommandContext): CommandReply {
  const record = context.store.get(command.clientId);
  if (record === undefined) {
    return {
      reply: formatInvalidReply(line),
      outcome: 'unknown_client',
      reason: 'no server of the herd has heard of this client id',
    };
  }
  return context.lookUpPlaces(record, command.radiusKm * 1000, command.bound).then(({ json, places }) => ({
    reply: formatWhatsatReply(record.atLine, json),
    outcome: 'ok',
    places,
  }));
}
