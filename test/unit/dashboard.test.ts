/**
 * Issue 10, the dashboard's pure parts: the antimeridian cut of the country outlines, the sliced
 * snapshot scan over a million clients (never holding the event loop for 20 ms), its query
 * parser, the SSE framing, the composed observer, the settings and the config's new fields.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Position } from 'geojson';
import { cutAtAntimeridian, worldCountries } from '../../src/dashboard/world.js';
import { SnapshotScanner, parseSnapshotQuery } from '../../src/dashboard/snapshot.js';
import { serverNameOf, type AtRecord } from '../../src/protocol/at-record.js';
import { sseMessage } from '../../src/dashboard/event-stream.js';
import { DEFAULT_DASHBOARD_SETTINGS, resolveDashboardSettings } from '../../src/dashboard/settings.js';
import { remoteSource } from '../../src/dashboard/herd-view.js';
import { NOOP_OBSERVER, composeObservers, type ServerObserver } from '../../src/observability/observer.js';
import { LocationStore } from '../../src/store/location-store.js';
import { validateHerdConfig } from '../../src/config/herd-config.js';
import { ConfigError, DashboardBusyError } from '../../src/errors.js';

/** Every edge of a ring that spans more than 90 degrees of longitude and is not along a pole. */
function wideEdges(rings: Position[][]): number {
  let wide = 0;
  for (const ring of rings) {
    for (let i = 1; i < ring.length; i++) {
      const [x0, y0] = ring[i - 1] as [number, number];
      const [x1, y1] = ring[i] as [number, number];
      if (Math.abs(x1 - x0) > 90 && !(Math.abs(y0) === 90 && Math.abs(y1) === 90)) wide++;
    }
  }
  return wide;
}

describe('country outlines cut at the antimeridian', async () => {
  const world = await worldCountries();
  const byName = (name: string) => {
    const feature = world.features.find((f) => f.properties.name === name);
    assert.ok(feature, name);
    return feature;
  };

  test('world-atlas itself has rings that jump across the map (what the cut is for)', () => {
    // A ring of Fiji as the package has it: 179.x E to 179.x W in one step.
    const fijiRing: Position[] = [
      [178.1, -17.0],
      [179.9, -16.5],
      [-179.9, -16.2],
      [-179.8, -16.9],
      [178.1, -17.0],
    ];
    assert.equal(wideEdges([fijiRing]), 2);
    const cut = cutAtAntimeridian({ type: 'Polygon', coordinates: [fijiRing] });
    assert.equal(cut.length, 2, 'one piece each side of 180 degrees');
    assert.equal(wideEdges(cut.flat()), 0);
    for (const polygon of cut) for (const [x] of polygon[0] as Position[]) assert.ok(Math.abs(x as number) <= 180);
  });

  test('Russia, Fiji and Antarctica cross no line across the map', () => {
    for (const name of ['Russia', 'Fiji', 'Antarctica', 'United States of America', 'New Zealand']) {
      const feature = byName(name);
      assert.equal(wideEdges(feature.geometry.coordinates.flat()), 0, name);
    }
    // Antarctica goes round the pole: its piece is closed along the pole line, from -180 to 180.
    const antarctica = byName('Antarctica').geometry.coordinates.flat(2);
    assert.ok(antarctica.some(([x, y]) => x === -180 && y === -90));
    assert.ok(antarctica.some(([x, y]) => x === 180 && y === -90));
    // Fiji has pieces on both sides of the antimeridian.
    const fiji = byName('Fiji').geometry.coordinates.flat(2);
    assert.ok(fiji.some(([x]) => (x as number) > 177) && fiji.some(([x]) => (x as number) < -179));
  });

  test('rings are closed, outer rings counter-clockwise, holes kept (Lesotho in South Africa)', () => {
    for (const feature of world.features) {
      for (const polygon of feature.geometry.coordinates) {
        for (const ring of polygon) {
          assert.ok(ring.length >= 4, feature.properties.name);
          assert.deepEqual(ring[0], ring[ring.length - 1], feature.properties.name);
        }
      }
    }
    assert.equal(byName('South Africa').geometry.coordinates[0]?.length, 2);
    assert.ok(world.features.length > 170);
  });
});

function record(i: number): AtRecord & { latitude: number; longitude: number } {
  const latitude = ((i * 37) % 17_000) / 100 - 85;
  const longitude = ((i * 101) % 36_000) / 100 - 180;
  const clientId = `c${i}`;
  const iso = (value: number, width: number): string =>
    `${value < 0 ? '-' : '+'}${Math.abs(value)
      .toFixed(2)
      .padStart(width + 3, '0')}`;
  const atLine = `AT S +0.000000000 ${clientId} ${iso(latitude, 2)}${iso(longitude, 3)} 1`;
  return { clientId, atLine, latitude, longitude };
}

describe('the snapshot scan', () => {
  test('over 1M clients it reads the store in slices of snapshotSliceMs, yielding between them, and counts every one', async (t) => {
    const store = new LocationStore();
    for (let i = 0; i < 1_000_000; i++) store.offer(record(i));
    // A clock that moves 1 ms at each reading: a slice of 5 ms is then at most 5 checks of 256
    // records, whatever this machine's speed, and the scan must yield after each.
    let nowMs = 0;
    let yields = 0;
    const scanner = new SnapshotScanner({
      store,
      sliceMs: DEFAULT_DASHBOARD_SETTINGS.snapshotSliceMs,
      maxRequests: 4,
      clock: { now: () => ++nowMs },
      yieldToLoop: () => {
        yields++;
        return new Promise((resolve) => setImmediate(resolve));
      },
    });
    const startedMs = performance.now();
    const [world, box] = await Promise.all([
      scanner.request({ bbox: { west: -180, south: -90, east: 180, north: 90 }, limit: 5000, cols: 64, rows: 32 }),
      scanner.request({ bbox: { west: 170, south: -50, east: -170, north: 50 }, limit: 5000, cols: 8, rows: 8 }),
    ]);
    assert.equal(world.clients, 1_000_000);
    assert.equal(world.total, 1_000_000);
    assert.equal(world.points.length, 0, 'a grid, not a million points');
    const counted = (world.grid?.cells ?? []).filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0);
    assert.equal(counted, 1_000_000);
    const perSlice = 256 * DEFAULT_DASHBOARD_SETTINGS.snapshotSliceMs;
    assert.equal(world.slices, Math.ceil(1_000_000 / perSlice), 'each slice stops at snapshotSliceMs');
    assert.equal(yields, world.slices - 1, 'and yields to the event loop before the next');
    // The box across the antimeridian: 20 of 360 degrees of longitude, latitudes -50 to 50.
    let expected = 0;
    for (const r of store.values())
      if ((r.longitude >= 170 || r.longitude <= -170) && r.latitude >= -50 && r.latitude <= 50) expected++;
    assert.equal(box.total, expected);
    // What it takes in real time is measured by the bench (npm run bench -- --only dashboard).
    t.diagnostic(`scan of 1M clients, two queries: ${Math.round(performance.now() - startedMs)} ms`);
  });

  test('points below the limit, a grid above; requests past maxRequests are refused', async () => {
    const big = new LocationStore();
    for (let i = 0; i < 100_000; i++) big.offer(record(i));
    const busy = new SnapshotScanner({ store: big, sliceMs: 1, maxRequests: 2 });
    const world = { bbox: { west: -180, south: -90, east: 180, north: 90 }, limit: 10, cols: 2, rows: 2 };
    // Two requests of one turn wait for the same pass; a third is one too many.
    const scanning = busy.request(world);
    const waiting = busy.request(world);
    await assert.rejects(
      busy.request(world),
      (error: unknown) => error instanceof DashboardBusyError && error.code === 'HERD_DASHBOARD_BUSY',
    );
    assert.equal((await scanning).total, 100_000);
    assert.equal((await waiting).total, 100_000);

    const store = new LocationStore();
    for (let i = 0; i < 10; i++) store.offer(record(i));
    const scanner = new SnapshotScanner({ store, sliceMs: 8, maxRequests: 1 });
    const query = { bbox: { west: -180, south: -90, east: 180, north: 90 }, limit: 10, cols: 2, rows: 2 };
    const points = await scanner.request(query);
    assert.equal(points.points.length, 10);
    assert.equal(points.grid, undefined);
    assert.equal(points.points[0]?.server, 'S');
    const grid = await scanner.request({ ...query, limit: 9 });
    assert.equal(grid.points.length, 0);
    assert.equal(grid.grid?.cells.length !== undefined && grid.grid.cells.length > 0, true);
  });

  test('parseSnapshotQuery reads bbox, limit, cols and rows within their bounds', () => {
    const bounds = { maxPoints: 100, maxCells: 4096 };
    const parse = (text: string) => parseSnapshotQuery(new URLSearchParams(text), bounds);
    assert.deepEqual(parse(''), {
      bbox: { west: -180, south: -90, east: 180, north: 90 },
      limit: 100,
      cols: 64,
      rows: 32,
    });
    assert.equal(typeof parse(''), 'object');
    assert.deepEqual(parse('bbox=-10,-5,10,5&limit=1000&cols=8&rows=8'), {
      bbox: { west: -10, south: -5, east: 10, north: 5 },
      limit: 100,
      cols: 8,
      rows: 8,
    });
    assert.match(parse('bbox=1,2,3') as string, /bbox/);
    assert.match(parse('bbox=0,10,1,5') as string, /south <= north/);
    assert.match(parse('bbox=-181,0,0,1') as string, /range/);
    assert.match(parse('limit=-1') as string, /limit/);
    assert.match(parse('cols=100&rows=100') as string, /at most 4096/);
    assert.equal(serverNameOf('AT Alford +0.1 c +1+1 1'), 'Alford');
  });
});

describe('the event stream framing', () => {
  test('one data line whatever the client id holds', () => {
    const message = sseMessage('checkin', { id: 'a\nevent: evil\r\ndata: x' });
    assert.equal(message.split('\n').length, 4);
    assert.match(message, /^event: checkin\ndata: \{.*\}\n\n$/);
  });
});

describe('composeObservers', () => {
  test('calls every observer that has a hook, the base first; a hook only the base has stays its own', () => {
    const calls: string[] = [];
    const base: ServerObserver = {
      ...NOOP_OBSERVER,
      command: () => calls.push('base command'),
      stored: () => calls.push('base stored'),
    };
    const extra = { stored: (r: AtRecord) => calls.push(`extra stored ${r.clientId}`) };
    const composed = composeObservers(base, extra);
    composed.command('IAMAT', 'ok', 1);
    composed.stored(record(7), undefined);
    assert.deepEqual(calls, ['base command', 'base stored', 'extra stored c7']);
    assert.equal(composed.flood.name, `bound ${NOOP_OBSERVER.flood.name}`);
  });
});

describe('dashboard settings and config', () => {
  test('defaults, and overrides taken field by field', () => {
    assert.equal(DEFAULT_DASHBOARD_SETTINGS.maxStreams, 16);
    const settings = resolveDashboardSettings({ maxStreams: 2, flushIntervalMs: undefined });
    assert.equal(settings.maxStreams, 2);
    assert.equal(settings.flushIntervalMs, DEFAULT_DASHBOARD_SETTINGS.flushIntervalMs);
  });

  test('servers[].location is ISO 6709; the dashboard section is validated', () => {
    const base = { servers: [{ name: 'A', port: 1000 }] };
    const config = validateHerdConfig(
      { servers: [{ name: 'A', port: 1000, location: '+34.068930-118.445127' }], dashboard: { maxStreams: 4 } },
      'h.json',
    );
    assert.equal(config.servers[0]?.location, '+34.068930-118.445127');
    assert.equal(config.dashboard.maxStreams, 4);
    assert.equal(config.dashboard.flushIntervalMs, DEFAULT_DASHBOARD_SETTINGS.flushIntervalMs);
    assert.throws(
      () => validateHerdConfig({ servers: [{ name: 'A', port: 1000, location: '34N 118W' }] }, 'h.json'),
      (error: unknown) =>
        error instanceof ConfigError && /servers\[0\]\.location: must be an ISO 6709/.test(error.message),
    );
    assert.throws(
      () => validateHerdConfig({ ...base, dashboard: { maxStreams: 0 } }, 'h.json'),
      (error: unknown) => error instanceof ConfigError && /dashboard\.maxStreams/.test(error.message),
    );
  });

  test("a member's counters come from its /status load, with no /metrics read", async () => {
    const load = { iamat: 6, floods: 7, loopDelayP99Ms: 1.5 };
    const status = { name: 'B', incarnation: 'i', clients: 0, links: [], load };
    const paths: string[] = [];
    const server = http.createServer((request, response) => {
      paths.push(request.url ?? '');
      response.end(JSON.stringify(status));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const reading = await remoteSource(`http://127.0.0.1:${port}`, 1000).read();
      assert.deepEqual(reading.counters, load);
      assert.equal(reading.status.name, 'B');
      assert.deepEqual(paths, ['/status']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
