/**
 * One client connection on the client port (docs/protocol.md "Client commands"): each line is
 * parsed, checked against the limits, dispatched through the command table, and answered in order
 * by the {@link LineConnection} beneath; each command gets one log event and one metric, labelled by
 * the handler's typed outcome. Idle clients are closed. Works on any duplex stream, with injected
 * timers, so tests need neither sockets nor sleeping.
 */
import type { Duplex } from 'node:stream';
import { StoreUnavailableError } from '../errors.js';
import type { Timers, TimerHandle } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';
import type { ServerObserver } from '../observability/observer.js';
import { formatInvalidReply, parseClientCommand, type ClientCommand } from '../protocol/commands.js';
import { FieldOffsets } from '../protocol/fields.js';
import { bytesOfJson, fastLogOf, jsonBinary, jsonText, type FastLog } from '../observability/fast-log.js';
import { COMMANDS, dispatch, type CommandContext, type CommandKind, type CommandResult } from './commands/index.js';
import type { CommandTable } from './commands/command.js';
import { textOfBinary, type ReplyBytes } from '../protocol/bytes.js';
import type { ServerLimits } from './limits.js';
import { LineConnection, type ConnectionHandler, type Reply } from './line-connection.js';

/** Options of a {@link ClientSession}. */
export interface ClientSessionOptions {
  /** A process-unique connection id, for logs. */
  readonly id: number;
  /** `host:port` of the remote end, for logs. */
  readonly remote: string;
  readonly stream: Duplex;
  /** What the command handlers share. */
  readonly context: CommandContext;
  readonly limits: ServerLimits;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly observer: ServerObserver;
  /** The command handlers. @default {@link COMMANDS} */
  readonly table?: CommandTable;
  /** Called once when the connection is gone. */
  readonly onClose?: (session: ClientSession, reason: string) => void;
}

/** Each command kind as the `msg` of its log event. */
const KIND_JSON: Readonly<Record<CommandKind, string>> = {
  IAMAT: '"IAMAT"',
  WHATSAT: '"WHATSAT"',
  INVALID: '"INVALID"',
};

/** Fields of a client command (the verb and three operands). */
const COMMAND_FIELDS = 4;

/** A client's connection, from accept to close. */
export class ClientSession {
  readonly id: number;
  readonly remote: string;
  private readonly options: ClientSessionOptions;
  private readonly connection: LineConnection;
  private readonly table: CommandTable;
  private idleTimer: TimerHandle | undefined;
  private readonly fastLog: FastLog;
  /** Where the fields of the line being handled are. */
  private readonly fields = new FieldOffsets(COMMAND_FIELDS);
  /** The first members of this connection's `command` log events, up to the line's value. */
  private readonly commandJson: string;
  /** {@link commandJson} as bytes. */
  private readonly commandBytes: Buffer;

  constructor(options: ClientSessionOptions) {
    this.options = options;
    this.id = options.id;
    this.remote = options.remote;
    this.commandJson = `,"event":"command","conn":${options.id},"line":`;
    this.commandBytes = bytesOfJson(this.commandJson);
    this.table = options.table ?? COMMANDS;
    this.fastLog = fastLogOf(options.logger);
    const { limits, logger } = options;
    const handler: ConnectionHandler = {
      onLine: (bytes, start, end) => this.onLine(bytes, start, end),
      fallback: (line, error) => {
        // Not durable: no reply at all, the connection closes (docs/protocol.md#iamat).
        if (error instanceof StoreUnavailableError) return undefined;
        logger.error(
          { event: 'reply-failed', conn: this.id, line: textOfBinary(line), err: String(error) },
          'reply failed; answering ?',
        );
        return formatInvalidReply(line);
      },
      onOverflow: (bytes, start, end) =>
        this.record(
          'INVALID',
          { reply: undefined, outcome: 'line_too_long', reason: `line over ${limits.maxLineBytes} bytes` },
          0,
          bytes,
          start,
          end,
        ),
      onSlowReader: (event) => {
        const paused = event === 'paused';
        const message = paused
          ? `connection ${this.id} does not read its replies (over ${limits.maxPendingOutputBytes} bytes unwritten); stopped reading it`
          : `connection ${this.id} did not read for ${limits.slowReaderTimeoutMs} ms; dropped`;
        const fields = { conn: this.id, remote: this.remote };
        logger.warn({ event: paused ? 'slow-reader-paused' : 'slow-reader-dropped', ...fields }, message);
      },
      onClose: (reason) => {
        options.timers.clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
        options.onClose?.(this, reason);
      },
    };
    this.connection = new LineConnection(options.stream, handler, limits, options.timers);
    this.armIdleTimer(limits.idleTimeoutMs);
  }

  /** Resolves when the connection is closed. */
  get closed(): Promise<void> {
    return this.connection.closedSignal;
  }

  /** Reads no more, writes every reply due, then ends the connection (shutdown, idle). */
  finish(): void {
    this.connection.finish();
  }

  private armIdleTimer(delayMs: number): void {
    const { timers, limits, logger } = this.options;
    this.idleTimer = timers.setTimeout(() => {
      const idleForMs = timers.now() - this.connection.lastInputAtMs;
      if (this.connection.pendingReplies > 0) {
        // Replies are still due: not idle; look again one idle period from now (not every millisecond).
        this.armIdleTimer(limits.idleTimeoutMs);
        return;
      }
      if (idleForMs < limits.idleTimeoutMs) {
        // Input came meanwhile: look again when it could next be idle.
        this.armIdleTimer(limits.idleTimeoutMs - Math.max(0, idleForMs));
        return;
      }
      logger.info(
        { event: 'idle-timeout', conn: this.id, remote: this.remote, idleTimeoutMs: limits.idleTimeoutMs },
        `connection ${this.id} idle for ${limits.idleTimeoutMs} ms; closing`,
      );
      this.connection.finish();
    }, delayMs);
  }

  private onLine(bytes: Buffer, start: number, end: number): Reply | undefined {
    const command = parseClientCommand(bytes, start, end, this.fields);
    if (command === undefined) return undefined;
    const { timers, context } = this.options;
    const started = timers.now();
    const kind = command.kind;
    const result = this.clientIdTooLong(command) ?? dispatch(command, context, this.table);
    if (!(result instanceof Promise)) return this.record(kind, result, started, bytes, start, end);
    // The bytes are gone once this call returns: the line is kept for the log and a `?` reply.
    const line = bytes.toString('latin1', start, end);
    return result.then(
      (done) => this.record(kind, done, started, line),
      (error: unknown) => {
        if (error instanceof StoreUnavailableError) {
          // Logged and counted with no reply; the connection then cuts here (docs/protocol.md#iamat).
          this.record(kind, { reply: '', outcome: 'store_unavailable', reason: error.message }, started, line);
          throw error;
        }
        return this.record(kind, { reply: undefined, outcome: 'error', reason: String(error) }, started, line);
      },
    );
  }

  /** The refusal of a command whose client id is over `limits.maxClientIdBytes`, else undefined. */
  private clientIdTooLong(command: ClientCommand): CommandResult | undefined {
    const max = this.options.limits.maxClientIdBytes;
    const bytes =
      command.kind === 'IAMAT' ? command.fields.length(1) : command.kind === 'WHATSAT' ? command.clientId.length : 0;
    if (bytes <= max) return undefined;
    return { reply: undefined, outcome: 'client_id_too_long', reason: `client id over maxClientIdBytes (${max})` };
  }

  /**
   * One metric and one log event per command (docs/protocol.md#logs), then the reply: the handler's,
   * or `? <line>` for a refused line.
   *
   * @param line - the line as received: its bytes from `start` to `end`, or a binary string of them.
   */
  private record(
    kind: CommandKind,
    result: CommandResult,
    startedMs: number,
    line: Buffer | string,
    start = 0,
    end = line.length,
  ): ReplyBytes {
    const { observer, timers } = this.options;
    const reply =
      result.reply ?? formatInvalidReply(typeof line === 'string' ? line : line.toString('latin1', start, end));
    observer.command(kind, result.outcome, timers.now() - startedMs);
    const log = this.fastLog;
    if (!log.enabled) return reply;
    // Every reply ends in a newline; a WHATSAT reply is many lines, logged by its first and its
    // length in bytes. The handler's one-line reply comes with its text at hand (an IAMAT's AT line).
    let replyLine: string;
    let replyEnd: number;
    let bytes = '';
    if (result.replyLine !== undefined && typeof reply === 'string') {
      replyLine = result.replyLine;
      replyEnd = replyLine.length;
    } else {
      replyLine = typeof reply === 'string' ? reply : reply.head;
      const length = typeof reply === 'string' ? reply.length : replyLine.length + reply.body.length;
      replyEnd = replyLine.indexOf('\n');
      if (replyEnd < length - 1) bytes = `,"bytes":${length}`;
    }
    const places = result.places;
    const placesJson =
      places === undefined
        ? ''
        : `,"places":{"source":"${places.source}","status":"${places.status}","results":${places.results},"ms":${places.ms}${places.cached === true ? ',"cached":true' : ''}}`;
    // Straight into the log's buffer when every piece is plain ASCII (the common case): no string built.
    if (log.begin()) {
      log.raw(this.commandBytes);
      if (typeof line === 'string') log.jsonOf(line);
      else log.jsonOfBytes(line, start, end);
      log.text(',"reply":');
      log.jsonOf(replyLine, replyEnd);
      log.text(',"outcome":"');
      log.text(result.outcome);
      log.text('"');
      if (result.reason !== undefined) {
        log.text(',"reason":');
        log.jsonOf(result.reason);
      }
      log.text(bytes);
      log.text(placesJson);
      if (log.end(KIND_JSON[kind])) return reply;
    }
    const lineText = typeof line === 'string' ? line : line.toString('latin1', start, end);
    let fields = `${this.commandJson}${jsonBinary(lineText)},"reply":${jsonBinary(replyLine.slice(0, replyEnd))},"outcome":"${result.outcome}"`;
    if (result.reason !== undefined) fields += `,"reason":${jsonText(result.reason)}`;
    log.info(fields + bytes + placesJson, KIND_JSON[kind]);
    return reply;
  }
}
