/**
 * What the dashboard's streams are told between two flushes: the records stored (from the server's
 * {@link ServerObserver.stored} hook) and the link state changes (from `linkStatus`). The hooks run
 * on the server's hot path, so they only note: one comparison while no page is open, one array store
 * while one is. Deduplication (latest location per client), the cap per event and serialization
 * happen in {@link CheckinFeed.take}, on the flush timer.
 */
import type { LinkState, LinkStatusRow } from '../core/status.js';
import type { ServerObserver } from '../observability/observer.js';
import { locationOf, serverNameOf, timeStartOf, type AtRecord } from '../protocol/at-record.js';
import { textOfBinary } from '../protocol/bytes.js';
import { sseMessage } from './event-stream.js';

/** One check-in as a `checkin` event carries it. */
export interface Checkin {
  /** The client id as text (its bytes decoded as UTF-8). */
  readonly id: string;
  readonly lat: number;
  readonly lng: number;
  /** The server whose AT line it is. */
  readonly server: string;
  /** The client's time from the AT line (POSIX seconds, as the client sent it). */
  readonly time: string;
}

/**
 * A stored record as a {@link Checkin}, read from its AT line with the record's codec
 * (src/protocol/at-record.ts): only the fields the page needs.
 */
export function toCheckin(record: AtRecord): Checkin {
  const line = record.atLine;
  const location = locationOf(line);
  return {
    id: textOfBinary(record.clientId),
    lat: location.latitude,
    lng: location.longitude,
    server: serverNameOf(line),
    time: line.slice(timeStartOf(line)),
  };
}

/** Notes stored records and link changes while a page is open; turns them into events on demand. */
export class CheckinFeed {
  /** The hooks to compose into the server's observer. */
  readonly observer: Pick<ServerObserver, 'stored' | 'linkStatus'>;
  private readonly buffer: (AtRecord | undefined)[];
  private buffered = 0;
  private overflow = 0;
  private readonly linkChanges = new Map<string, LinkState>();
  private readonly maxPerEvent: number;
  /** Whether the hooks note anything (a page is open). */
  active = false;

  /**
   * @param capacity - records noted between two flushes (`dashboard.maxBufferedCheckins`); past it
   *   they are only counted.
   * @param maxPerEvent - check-ins in one `checkin` event (`dashboard.maxCheckinsPerFlush`).
   */
  constructor(capacity: number, maxPerEvent: number) {
    this.buffer = new Array<AtRecord | undefined>(capacity);
    this.maxPerEvent = maxPerEvent;
    this.observer = {
      stored: (record) => {
        if (!this.active) return;
        if (this.buffered < this.buffer.length) this.buffer[this.buffered++] = record;
        else this.overflow++;
      },
      linkStatus: (peer, status) => {
        if (this.active) this.linkChanges.set(peer, status);
      },
    };
  }

  /**
   * The events for what was noted since the last call (a `link` event if a link changed, a
   * `checkin` event if a record was stored), as one chunk of SSE text, or `''`; and forgets it.
   *
   * @param server - this server's name, in each event.
   * @param links - the current link rows, for the figures beside each changed state.
   */
  take(server: string, links: () => readonly LinkStatusRow[]): string {
    let chunk = '';
    if (this.linkChanges.size > 0) {
      const rows = new Map(links().map((row) => [row.peer, row]));
      const changed = [...this.linkChanges].map(([peer, state]) => ({ ...rows.get(peer), peer, status: state }));
      this.linkChanges.clear();
      chunk += sseMessage('link', { server, links: changed });
    }
    if (this.buffered > 0 || this.overflow > 0) {
      const seen = new Set<string>();
      const checkins: Checkin[] = [];
      let more = this.overflow;
      // Newest first: the first record met for a client id is its latest.
      for (let i = this.buffered - 1; i >= 0; i--) {
        const record = this.buffer[i] as AtRecord;
        this.buffer[i] = undefined;
        if (seen.has(record.clientId)) continue;
        seen.add(record.clientId);
        if (checkins.length >= this.maxPerEvent) {
          more++;
          continue;
        }
        checkins.push(toCheckin(record));
      }
      this.buffered = 0;
      this.overflow = 0;
      chunk += sseMessage('checkin', { server, checkins, more });
    }
    return chunk;
  }

  /** Forgets everything noted and stops noting (the last page closed). */
  clear(): void {
    this.active = false;
    this.buffer.fill(undefined, 0, this.buffered);
    this.buffered = 0;
    this.overflow = 0;
    this.linkChanges.clear();
  }
}
