/** `IAMAT <client id> <location> <time>`: a client says where it is (docs/protocol.md "IAMAT"). */
import { formatAt, formatInvalidReply, type IamatCommand } from '../../protocol/commands.js';
import type { CommandContext, CommandReply, CommandResult } from './command.js';

/**
 * Stamps the IAMAT with the server's receive time, stores and floods it when it is newer than what
 * is held, and acknowledges it with the AT line either way (the stored location only moves to a
 * newer client time). A client time more than `maxFutureSkewNs` ahead gets `? ` (`clock_skew`).
 * With `store.sync` the reply waits for the commit of the update.
 */
export function iamat(command: IamatCommand, line: string, context: CommandContext): CommandReply {
  const receivedNs = context.clock.nowNs();
  if (command.timeNs - receivedNs > context.maxFutureSkewNs) {
    return {
      reply: formatInvalidReply(line),
      outcome: 'clock_skew',
      reason: `client time ${command.timeText} is more than ${context.maxFutureSkewNs / 1_000_000n} ms ahead of this server's clock`,
    };
  }
  const atLine = formatAt(context.serverName, receivedNs - command.timeNs, command);
  context.ingest({ clientId: command.clientId, atLine });
  const result: CommandResult = { reply: `${atLine}\n`, outcome: 'ok' };
  const whenCommitted = context.whenCommitted;
  return whenCommitted === undefined ? result : whenCommitted().then(() => result);
}
