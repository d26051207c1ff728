/**
 * The log events of the floods a link receives (docs/protocol.md#logs): `flood-stored` and
 * `flood-stale`, one per AT line, with the neighbour, the client id and the line. Written in place
 * into the log file's buffer when the id and the line are plain ASCII, the common case
 * (src/observability/fast-log.ts `FastLog.begin`), else as a string.
 */
import { bytesOfJson, jsonBinary, jsonText, type FastLog } from '../observability/fast-log.js';
import type { AtRecord } from '../protocol/at-record.js';

/** The flood log events of one neighbour's link. */
export class FloodLog {
  private readonly log: FastLog;
  /** The members before the client id's value, stored and stale, as bytes: they never change. */
  private readonly heads: readonly [Buffer, Buffer];

  /** @param peerName - the neighbour the floods come from. */
  constructor(log: FastLog, peerName: string) {
    this.log = log;
    const peer = jsonText(peerName);
    const head = (event: string): Buffer => bytesOfJson(`,"event":"${event}","peer":${peer},"clientId":`);
    this.heads = [head('flood-stored'), head('flood-stale')];
  }

  /** Logs `message`, stored (newer than what was held) or stale. */
  write(stored: boolean, message: AtRecord): void {
    const log = this.log;
    if (!log.enabled) return;
    const head = this.heads[stored ? 0 : 1];
    const text = stored ? '"flood stored"' : '"flood ignored as stale"';
    if (log.begin()) {
      log.raw(head);
      log.jsonOf(message.clientId);
      log.text(',"line":');
      log.jsonOf(message.atLine);
      if (log.end(text)) return;
    }
    log.info(`${head.toString('latin1')}${jsonBinary(message.clientId)},"line":${jsonBinary(message.atLine)}`, text);
  }
}
