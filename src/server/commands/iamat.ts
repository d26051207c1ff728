/** `IAMAT <client id> <location> <time>`: a client says where it is (docs/protocol.md#iamat). */
import { writeAtLine } from '../../protocol/at-record.js';
import type { IamatCommand } from '../../protocol/commands.js';
import { differenceNs, readPosixTime } from '../../protocol/time.js';
import type { CommandContext, CommandReply, CommandResult } from './command.js';

/**
 * Stamps the IAMAT with the server's receive time, stores and floods it when it is newer than what
 * is held, and acknowledges it with the AT line either way (the stored location only moves to a
 * newer client time). A client time more than `maxFutureSkewNs` ahead is refused (`clock_skew`).
 * With `store.sync` the reply waits for the commit of the update.
 */
export function iamat(command: IamatCommand, context: CommandContext): CommandReply {
  const received = context.clock.now();
  const { bytes, fields } = command;
  const { scratch } = context;
  const clientTime = scratch.clientTime;
  // Seconds beyond 2^53 are hundreds of millions of years ahead: too far, whatever the limit.
  const readable = readPosixTime(bytes, fields.start(3), fields.end(3), clientTime);
  if (!readable || differenceNs(clientTime, received) > context.maxFutureSkewNs) {
    return {
      reply: undefined,
      outcome: 'clock_skew',
      reason: `client time ${bytes.toString('latin1', fields.start(3), fields.end(3))} is more than ${context.maxFutureSkewNs / 1e6} ms ahead of this server's clock`,
    };
  }
  const length = writeAtLine(scratch.atLine, context.serverName, received, clientTime, bytes, fields);
  const atLine = scratch.atLine.toString('latin1', 0, length);
  // The client id follows `AT <server> <difference> `: the line's length minus the id, location and time.
  const idStart = length - fields.length(3) - fields.length(2) - fields.length(1) - 2;
  context.ingest({ atLine, clientId: atLine.slice(idStart, idStart + fields.length(1)) });
  const result: CommandResult = { reply: `${atLine}\n`, replyLine: atLine, outcome: 'ok' };
  const whenCommitted = context.whenCommitted;
  return whenCommitted === undefined ? result : whenCommitted().then(() => result);
}
