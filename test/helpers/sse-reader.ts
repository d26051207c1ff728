/**
 * A plain HTTP reader of a server-sent event stream (what a page's EventSource does), for tests and
 * the bench: the events parsed, the comments kept, and a wait for an event that matches.
 */
import http from 'node:http';

/** One event: its name and its parsed JSON data. */
export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

/** An open stream. */
export interface SseReader {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Every event so far. */
  readonly events: SseEvent[];
  /** Every comment line so far (without the leading colon). */
  readonly comments: string[];
  /** Bytes received so far. */
  readonly bytes: () => number;
  /** Resolves with the first event (seen before or after the call) for which `match` is true. */
  waitFor(match: (event: SseEvent) => boolean, timeoutMs?: number, what?: string): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * GETs `url` and reads it as an event stream. Resolves once the response headers are in (whatever
 * the status; the body of a non-200 answer is in `comments` as one entry).
 */
export function openEventStream(url: string): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const waiters: { match: (event: SseEvent) => boolean; resolve: (event: SseEvent) => void }[] = [];
      let buffer = '';
      let received = 0;
      response.setEncoding('utf8');
      const ended = new Promise<void>((resolveEnd) => {
        response.on('end', () => resolveEnd());
        response.on('close', () => resolveEnd());
        response.on('error', () => resolveEnd());
      });
      response.on('data', (text: string) => {
        received += Buffer.byteLength(text);
        if (response.statusCode !== 200) {
          comments.push(text);
          return;
        }
        buffer += text;
        for (;;) {
          const end = buffer.indexOf('\n\n');
          if (end === -1) break;
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let name = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) name = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          const event: SseEvent = { event: name, data: JSON.parse(data.join('\n')) as unknown };
          events.push(event);
          for (let i = waiters.length - 1; i >= 0; i--) {
            const waiter = waiters[i] as (typeof waiters)[number];
            if (waiter.match(event)) {
              waiters.splice(i, 1);
              waiter.resolve(event);
            }
          }
        }
      });
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        comments,
        bytes: () => received,
        ended,
        waitFor: (match, timeoutMs = 5000, what = 'an event') => {
          const seen = events.find(match);
          if (seen !== undefined) return Promise.resolve(seen);
          return new Promise((resolveEvent, rejectEvent) => {
            const timer = setTimeout(() => {
              const index = waiters.findIndex((w) => w.match === match);
              if (index !== -1) waiters.splice(index, 1);
              rejectEvent(
                new Error(`no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events.map((e) => e.event))}`),
              );
            }, timeoutMs);
            waiters.push({
              match,
              resolve: (event) => {
                clearTimeout(timer);
                resolveEvent(event);
              },
            });
          });
        },
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}
