/**
 * The dashboard's server-sent event streams (`GET /events`, text/event-stream over plain node:http):
 * a bounded set of open streams, one shared serialization per message written to all of them, a
 * heartbeat comment, and a page that does not read dropped before it can hold more than
 * `maxStreamUnwrittenBytes` of server memory.
 */
import type http from 'node:http';
import type { Timers, TimerHandle } from '../core/timers.js';
import type { Logger } from '../observability/logger.js';
import { remoteText } from '../server/listeners.js';
import { CONTENT_TYPES, SECURITY_HEADERS, sendResponse } from './http.js';
import type { DashboardSettings } from './settings.js';

/** One SSE message: `event: <name>` and its JSON data on one `data:` line. */
export function sseMessage(event: string, data: unknown): string {
  // JSON.stringify escapes CR and LF inside strings, so the data is one line whatever the client ids hold.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Options of {@link EventStreams}. */
export interface EventStreamsOptions {
  readonly settings: Pick<DashboardSettings, 'maxStreams' | 'maxStreamUnwrittenBytes' | 'heartbeatIntervalMs'>;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Called when the first stream opens (start collecting). */
  readonly onActive?: () => void;
  /** Called when the last stream closes (stop collecting). */
  readonly onIdle?: () => void;
}

interface Stream {
  readonly id: number;
  readonly response: http.ServerResponse;
  readonly remote: string;
}

/** Every open `/events` stream of one server. */
export class EventStreams {
  private readonly options: EventStreamsOptions;
  private readonly streams = new Set<Stream>();
  private nextId = 1;
  private heartbeat: TimerHandle | undefined;

  constructor(options: EventStreamsOptions) {
    this.options = options;
  }

  /** Open streams. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * Answers `GET /events`: 200 and a stream that stays open, or 503 with a plain-text reason when
   * `maxStreams` are open already. `first` is written right after the headers (the page's initial
   * state, if any).
   */
  open(request: http.IncomingMessage, response: http.ServerResponse, first: string[] = []): void {
    const { settings, logger } = this.options;
    const remote = remoteText(request.socket);
    if (this.streams.size >= settings.maxStreams) {
      logger.warn(
        { event: 'dashboard-stream-refused', remote, limit: settings.maxStreams },
        `dashboard stream from ${remote} refused: ${settings.maxStreams} streams open (dashboard.maxStreams)`,
      );
      const body = `too many dashboard streams: ${settings.maxStreams} are open on this server (dashboard.maxStreams); close a page and reload\n`;
      sendResponse(response, 503, CONTENT_TYPES.text, body, false, { 'Retry-After': '10' });
      return;
    }
    const stream: Stream = { id: this.nextId++, response, remote };
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': CONTENT_TYPES.events,
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // A buffering reverse proxy would hold the events back.
      'X-Accel-Buffering': 'no',
    });
    response.socket?.setNoDelay(true);
    // An EventSource reconnects after this long when the stream ends (e.g. the server restarts).
    response.write(`retry: 2000\n: herd dashboard stream ${stream.id}\n\n${first.join('')}`);
    this.streams.add(stream);
    logger.info(
      { event: 'dashboard-stream-open', stream: stream.id, remote, streams: this.streams.size },
      `dashboard stream ${stream.id} from ${remote} open`,
    );
    response.once('close', () => this.remove(stream, 'closed'));
    // A reset by the page surfaces as 'close'; an error on the way must not be unhandled.
    response.on('error', () => this.remove(stream, 'error'));
    if (this.streams.size === 1) {
      this.scheduleHeartbeat();
      this.options.onActive?.();
    }
  }

  /**
   * Writes `chunk` (one or more whole SSE messages) to every stream. A stream that still has
   * unwritten bytes and would go past `maxStreamUnwrittenBytes` with this chunk is dropped instead
   * of written to; a stream that has sent everything always gets the chunk. So a stream never holds
   * more than the bound, or one chunk when a chunk is larger (a chunk is at most
   * `maxCheckinsPerFlush` check-ins).
   */
  broadcast(chunk: string): void {
    if (this.streams.size === 0 || chunk === '') return;
    const bytes = Buffer.byteLength(chunk);
    const limit = this.options.settings.maxStreamUnwrittenBytes;
    for (const stream of this.streams) {
      if (stream.response.destroyed || stream.response.writableEnded) {
        // Gone, and its 'close' has not come yet.
        this.remove(stream, 'closed');
        continue;
      }
      const unwritten = stream.response.writableLength;
      if (unwritten > 0 && unwritten + bytes > limit) {
        this.options.logger.warn(
          { event: 'dashboard-stream-dropped', stream: stream.id, remote: stream.remote, unwritten, limit },
          `dashboard stream ${stream.id} from ${stream.remote} dropped: ${unwritten} bytes unwritten, a page that does not read (dashboard.maxStreamUnwrittenBytes ${limit})`,
        );
        this.remove(stream, 'slow');
        stream.response.destroy();
        continue;
      }
      stream.response.write(chunk);
    }
  }

  /** Ends every stream (the server is stopping). */
  close(): void {
    this.options.timers.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
    for (const stream of [...this.streams]) {
      this.remove(stream, 'server stopping');
      stream.response.end();
    }
  }

  private remove(stream: Stream, why: string): void {
    if (!this.streams.delete(stream)) return;
    this.options.logger.info(
      { event: 'dashboard-stream-closed', stream: stream.id, remote: stream.remote, why, streams: this.streams.size },
      `dashboard stream ${stream.id} closed (${why})`,
    );
    if (this.streams.size === 0) {
      this.options.timers.clearTimeout(this.heartbeat);
      this.heartbeat = undefined;
      this.options.onIdle?.();
    }
  }

  private scheduleHeartbeat(): void {
    const { timers, settings } = this.options;
    this.heartbeat = timers.setTimeout(() => {
      this.heartbeat = undefined;
      if (this.streams.size === 0) return;
      this.broadcast(`: heartbeat ${new Date().toISOString()}\n\n`);
      if (this.streams.size > 0) this.scheduleHeartbeat();
    }, settings.heartbeatIntervalMs);
  }
}
