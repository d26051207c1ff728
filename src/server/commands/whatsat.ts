/** `WHATSAT <client id> <radius km> <bound>`: what is near a client (docs/protocol.md#whatsat). */
import { formatWhatsatReply, type WhatsatCommand } from '../../protocol/commands.js';
import type { CommandContext, CommandReply } from './command.js';

/**
 * Answers with the client's stored AT line and the places within the radius, at most `bound`, as a
 * Nearby Search document. A client id no server has heard of is refused (`unknown_client`). A failing
 * places source still gets the AT line and a document whose `status` says what went wrong.
 */
export function whatsat(command: WhatsatCommand, context: CommandContext): CommandReply {
  const atLine = context.store.atLineOf(command.clientId);
  if (atLine === undefined) {
    return {
      reply: undefined,
      outcome: 'unknown_client',
      reason: 'no server of the herd has heard of this client id',
    };
  }
  const radiusMeters = command.radiusKm * 1000;
  const kept = context.cachedPlaces(atLine, radiusMeters, command.bound);
  if (kept !== undefined) return { reply: formatWhatsatReply(atLine, kept.body), outcome: 'ok', places: kept.places };
  return context.lookUpPlaces(atLine, radiusMeters, command.bound).then(({ body, places }) => ({
    reply: formatWhatsatReply(atLine, body),
    outcome: 'ok',
    places,
  }));
}
