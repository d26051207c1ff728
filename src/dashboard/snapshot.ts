/**
 * `GET /clients`: the clients a page draws first, without sending a million markers. The answer for
 * a bounding box is either its points (at most `limit`) or, when more clients are in the box, a
 * density grid of counts (cells even in Web Mercator, the map's projection).
 *
 * The scan reads the location store only through its public API (`atLines()`, `size`: the AT lines
 * as held, each read for its location alone, without parsing the rest) and yields to
 * the event loop every `snapshotSliceMs`, so a scan of a million clients never holds the loop for
 * long; requests that arrive while a scan runs are answered together by the next one.
 */
import { nextTurn, type Timers } from '../core/timers.js';
import { DashboardBusyError } from '../errors.js';
import { clientIdOf, locationOf, serverNameOf } from '../protocol/at-record.js';
import { textOfBinary } from '../protocol/bytes.js';

/** A box of longitudes and latitudes; `west > east` means it crosses the antimeridian. */
export interface BoundingBox {
  readonly west: number;
  readonly south: number;
  readonly east: number;
  readonly north: number;
}

/** What a page asks for. */
export interface SnapshotQuery {
  readonly bbox: BoundingBox;
  /** Most points to return; more clients in the box make it a grid. */
  readonly limit: number;
  /** Grid columns and rows, if it comes to a grid. */
  readonly cols: number;
  readonly rows: number;
}

/** One client as a point. */
export interface SnapshotPoint {
  readonly id: string;
  readonly lat: number;
  readonly lng: number;
  /** The server whose AT line it is. */
  readonly server: string;
}

/** The answer. */
export interface SnapshotResult {
  readonly bbox: BoundingBox;
  /** Clients held by the server when the scan began. */
  readonly clients: number;
  /** Clients in the box. */
  readonly total: number;
  /** Every client in the box, when `total <= limit`; else empty. */
  readonly points: SnapshotPoint[];
  /** The density grid, when `total > limit`: `cells` lists `[index, count]` pairs of non-empty cells, index = row * cols + col, row 0 at the north. */
  readonly grid: { readonly cols: number; readonly rows: number; readonly cells: number[] } | undefined;
  /** Smallest box around the clients in the box, `[south, west, north, east]`, or undefined when none. */
  readonly extent: [number, number, number, number] | undefined;
  /** Time the scan took, ms, and its longest run without yielding, ms. */
  readonly scanMs: number;
  readonly longestSliceMs: number;
  readonly slices: number;
}

/** The store as the scan reads it. */
export interface ScannableStore {
  readonly size: number;
  /** Every AT line held (`AT <server> <difference> <client id> <location> <time>`, single spaces, binary strings). */
  atLines(): IterableIterator<string>;
}

/** Web Mercator's latitude limit, degrees. */
export const MERCATOR_MAX_LATITUDE = 85.0511287798;

function mercatorY(latitude: number): number {
  const clamped = Math.max(-MERCATOR_MAX_LATITUDE, Math.min(MERCATOR_MAX_LATITUDE, latitude));
  return Math.log(Math.tan(Math.PI / 4 + (clamped * Math.PI) / 360));
}

class Accumulator {
  readonly query: SnapshotQuery;
  total = 0;
  points: SnapshotPoint[] = [];
  readonly counts: Uint32Array;
  private readonly crosses: boolean;
  private readonly width: number;
  private readonly yTop: number;
  private readonly yHeight: number;
  south = Infinity;
  west = Infinity;
  north = -Infinity;
  east = -Infinity;

  constructor(query: SnapshotQuery) {
    this.query = query;
    const { west, east, south, north } = query.bbox;
    this.crosses = west > east;
    this.width = this.crosses ? east + 360 - west : east - west;
    this.yTop = mercatorY(north);
    this.yHeight = this.yTop - mercatorY(south);
    this.counts = new Uint32Array(query.cols * query.rows);
  }

  add(atLine: string, lat: number, lng: number): void {
    const { west, east, south, north } = this.query.bbox;
    if (lat < south || lat > north) return;
    if (this.crosses ? lng < west && lng > east : lng < west || lng > east) return;
    this.total++;
    if (lat < this.south) this.south = lat;
    if (lat > this.north) this.north = lat;
    if (lng < this.west) this.west = lng;
    if (lng > this.east) this.east = lng;
    if (this.total <= this.query.limit)
      this.points.push({ id: textOfBinary(clientIdOf(atLine)), lat, lng, server: serverNameOf(atLine) });
    else if (this.points.length > 0) this.points = [];
    const { cols, rows } = this.query;
    const dx = lng >= west ? lng - west : lng + 360 - west;
    const col = Math.min(cols - 1, Math.max(0, Math.floor((dx / (this.width || 1)) * cols)));
    const row = Math.min(
      rows - 1,
      Math.max(0, Math.floor(((this.yTop - mercatorY(lat)) / (this.yHeight || 1)) * rows)),
    );
    const index = row * cols + col;
    this.counts[index] = (this.counts[index] as number) + 1;
  }

  result(clients: number, timing: Pick<SnapshotResult, 'scanMs' | 'longestSliceMs' | 'slices'>): SnapshotResult {
    let grid: SnapshotResult['grid'];
    if (this.total > this.query.limit) {
      const cells: number[] = [];
      this.counts.forEach((count, index) => {
        if (count > 0) cells.push(index, count);
      });
      grid = { cols: this.query.cols, rows: this.query.rows, cells };
    }
    return {
      bbox: this.query.bbox,
      clients,
      total: this.total,
      points: this.total <= this.query.limit ? this.points : [],
      grid,
      extent: this.total === 0 ? undefined : [this.south, this.west, this.north, this.east],
      ...timing,
    };
  }
}

/** Options of {@link SnapshotScanner}. */
export interface SnapshotScannerOptions {
  readonly store: ScannableStore;
  /** Longest run without yielding, ms. */
  readonly sliceMs: number;
  /** Requests that may wait for the next scan. */
  readonly maxRequests: number;
  /** Yields to the event loop. @default setImmediate */
  readonly yieldToLoop?: () => Promise<void>;
  /** The clock that times the slices. @default `performance.now()` */
  readonly clock?: Pick<Timers, 'now'>;
}

interface Waiting {
  readonly accumulator: Accumulator;
  readonly resolve: (result: SnapshotResult) => void;
}

/** Answers {@link SnapshotQuery}s with sliced scans of the store. */
export class SnapshotScanner {
  private readonly options: SnapshotScannerOptions;
  private waiting: Waiting[] = [];
  private scanning = false;

  constructor(options: SnapshotScannerOptions) {
    this.options = options;
  }

  /**
   * Resolves with the answer to `query` once a scan has read every client.
   *
   * @throws {DashboardBusyError} `HERD_DASHBOARD_BUSY` (as a rejection) when `maxRequests` are waiting.
   */
  request(query: SnapshotQuery): Promise<SnapshotResult> {
    if (this.waiting.length >= this.options.maxRequests)
      return Promise.reject(
        new DashboardBusyError('HERD_DASHBOARD_BUSY', `${this.waiting.length} snapshot requests are waiting`),
      );
    return new Promise((resolve) => {
      this.waiting.push({ accumulator: new Accumulator(query), resolve });
      if (this.scanning) return;
      // Start on the next turn, so that requests of the same turn share the pass.
      this.scanning = true;
      setImmediate(() => void this.scan());
    });
  }

  private async scan(): Promise<void> {
    const yieldToLoop = this.options.yieldToLoop ?? nextTurn;
    const clock = this.options.clock ?? performance;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        this.waiting = [];
        const accumulators = batch.map((waiting) => waiting.accumulator);
        const store = this.options.store;
        const clients = store.size;
        // Records stored during the scan may or may not be seen; the stream brings them anyway.
        // Reading at most `clients` records bounds the scan whatever the store's iterator does.
        let left = clients;
        const iterator = store.atLines();
        const started = clock.now();
        let longestSliceMs = 0;
        let slices = 0;
        let done = false;
        while (!done) {
          const sliceStarted = clock.now();
          slices++;
          for (;;) {
            // Look at the clock every 256 records: reading it is not free either.
            for (let i = 0; i < 256; i++) {
              const next = left-- > 0 ? iterator.next() : undefined;
              if (next === undefined || next.done === true) {
                done = true;
                break;
              }
              const location = locationOf(next.value);
              for (const accumulator of accumulators)
                accumulator.add(next.value, location.latitude, location.longitude);
            }
            if (done || clock.now() - sliceStarted >= this.options.sliceMs) break;
          }
          longestSliceMs = Math.max(longestSliceMs, clock.now() - sliceStarted);
          if (!done) await yieldToLoop();
        }
        const timing = { scanMs: clock.now() - started, longestSliceMs, slices };
        for (const waiting of batch) waiting.resolve(waiting.accumulator.result(clients, timing));
      }
    } finally {
      this.scanning = false;
    }
  }
}

/**
 * Reads a `/clients` query string: `bbox=west,south,east,north` (default the world), `limit`
 * (default and most `maxPoints`), `cols` and `rows` (default 64 x 32; at most `maxCells` in all).
 *
 * @returns the query, or an error message.
 */
export function parseSnapshotQuery(
  params: URLSearchParams,
  bounds: { maxPoints: number; maxCells: number },
): SnapshotQuery | string {
  const bboxText = params.get('bbox');
  let bbox: BoundingBox = { west: -180, south: -90, east: 180, north: 90 };
  if (bboxText !== null) {
    const parts = bboxText.split(',').map(Number);
    if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) return 'bbox must be west,south,east,north';
    const [west, south, east, north] = parts as [number, number, number, number];
    if (Math.abs(west) > 180 || Math.abs(east) > 180 || south < -90 || north > 90 || south > north)
      return 'bbox out of range: longitudes in [-180, 180], latitudes in [-90, 90], south <= north';
    bbox = { west, south, east, north };
  }
  const integer = (name: string, fallback: number, max: number): number | string => {
    const text = params.get(name);
    if (text === null) return Math.min(fallback, max);
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1) return `${name} must be a positive integer`;
    return Math.min(n, max);
  };
  const limit = integer('limit', bounds.maxPoints, bounds.maxPoints);
  const cols = integer('cols', 64, 1024);
  const rows = integer('rows', 32, 1024);
  if (typeof limit === 'string') return limit;
  if (typeof cols === 'string') return cols;
  if (typeof rows === 'string') return rows;
  if (cols * rows > bounds.maxCells) return `cols * rows must be at most ${bounds.maxCells}`;
  return { bbox, limit, cols, rows };
}
