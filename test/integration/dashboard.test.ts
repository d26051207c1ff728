/**
 * The dashboard of one server, server side over plain HTTP (docs/observability.md "Dashboard"): the
 * page and its Content-Security-Policy, the event stream (content type, heartbeat with hand-moved
 * timers, coalesced check-ins, the stream limit, a page that never reads dropped at the bound), the
 * snapshot and the client view through the WHATSAT look-up path. Everything listens on 127.0.0.1,
 * port 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { findSample, parsePrometheusText } from '../helpers/prometheus-text.js';
import { CONTENT_SECURITY_POLICY } from '../../src/dashboard/dashboard.js';
import type { SnapshotResult } from '../../src/dashboard/snapshot.js';
import { exchange, waitUntil } from '../helpers/herd-process.js';
import { startMember, type Member } from '../helpers/dashboard-member.js';
import type { LogEntry } from '../helpers/capture-log.js';
import type { NearbySearchResponse } from '../../src/places/provider.js';
import { openEventStream } from '../helpers/sse-reader.js';

describe('the dashboard of one server', { timeout: 120_000 }, () => {
  let member: Member;
  before(async () => {
    member = await startMember({ maxStreams: 3 });
  });
  after(async () => {
    await member?.close();
  });

  test('/ is the HTML page with a strict Content-Security-Policy, nosniff, and no inline script or style', async () => {
    for (const path of ['/', '/?live=0']) {
      const response = await fetch(`${member.url}${path}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      const csp = response.headers.get('content-security-policy') ?? '';
      assert.equal(csp, CONTENT_SECURITY_POLICY);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      const html = await response.text();
      assert.match(html, /<script type="module" src="dashboard\/dashboard\.js"><\/script>/);
      assert.doesNotMatch(
        html,
        /<script>|<script type="module">|<style|\sstyle=|\son\w+=/i,
        'no inline script, style or handler',
      );
      assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
    }
  });

  test('the page, its modules, Leaflet from node_modules and the cut outlines are served; nothing else is', async () => {
    const js = await fetch(`${member.url}/dashboard/dashboard.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
    const leaflet = await fetch(`${member.url}/dashboard/vendor/leaflet/leaflet.js`);
    assert.equal(leaflet.status, 200);
    assert.match(await leaflet.text(), /Leaflet 1\.\d+\.\d+/);
    assert.equal((await fetch(`${member.url}/dashboard/vendor/leaflet/leaflet.css`)).status, 200);
    const countries = (await (await fetch(`${member.url}/dashboard/countries.json`)).json()) as {
      type: string;
      features: { properties: { name: string } }[];
    };
    assert.equal(countries.type, 'FeatureCollection');
    assert.ok(countries.features.some((feature) => feature.properties.name === 'Fiji'));
    for (const path of [
      '/dashboard/../package.json',
      '/dashboard/vendor/leaflet/../../../package.json',
      '/dashboard/nope.js',
    ])
      assert.equal((await fetch(`${member.url}${path}`)).status, 404, path);
    const post = await fetch(`${member.url}/events`, { method: 'POST' });
    assert.equal(post.status, 405, 'read-only: GET and HEAD only');
  });

  test('/events is text/event-stream with a heartbeat comment every heartbeatIntervalMs', async () => {
    const stream = await openEventStream(`${member.url}/events`);
    try {
      assert.equal(stream.status, 200);
      assert.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(stream.headers['cache-control'], 'no-store');
      assert.equal(
        stream.headers['content-security-policy'],
        CONTENT_SECURITY_POLICY,
        'the same security headers as every response',
      );
      await waitUntil(() => member.dashboard.streamCount === 1, 2000, 'the stream to be counted');
      assert.ok(!stream.comments.some((comment) => comment.startsWith('heartbeat')));
      member.timers.advance(member.dashboard.settings.heartbeatIntervalMs);
      await waitUntil(() => stream.comments.some((comment) => comment.startsWith('heartbeat')), 2000, 'a heartbeat');
      member.timers.advance(member.dashboard.settings.heartbeatIntervalMs);
      await waitUntil(
        () => stream.comments.filter((comment) => comment.startsWith('heartbeat')).length === 2,
        2000,
        'a second heartbeat',
      );
    } finally {
      stream.close();
      await waitUntil(() => member.dashboard.streamCount === 0, 2000, 'the stream to close');
    }
  });

  test('check-ins are batched on the flush timer, latest location per client, ids as JSON strings', async () => {
    const stream = await openEventStream(`${member.url}/events`);
    try {
      await waitUntil(() => member.dashboard.streamCount === 1, 2000, 'the stream');
      const hostile = '<img/src/onerror=alert(1)>';
      await exchange(
        member.port,
        `IAMAT walker +34.0-118.0 1700000001\nIAMAT walker +35.0-119.0 1700000002\nIAMAT ${hostile} +10+10 1700000000\n`,
      );
      assert.equal(
        stream.events.filter((event) => event.event === 'checkin').length,
        0,
        'nothing before the flush timer fires',
      );
      member.timers.advance(member.dashboard.settings.flushIntervalMs);
      const event = await stream.waitFor((e) => e.event === 'checkin', 2000, 'a checkin event');
      const data = event.data as {
        server: string;
        checkins: { id: string; lat: number; lng: number; server: string; time: string }[];
        more: number;
      };
      assert.equal(data.checkins.length, 2, 'one entry per client');
      assert.deepEqual(
        data.checkins.find((c) => c.id === 'walker'),
        { id: 'walker', lat: 35, lng: -119, server: 'Solo', time: '1700000002' },
      );
      assert.ok(data.checkins.some((c) => c.id === hostile));
      assert.equal(data.more, 0);
    } finally {
      stream.close();
      await waitUntil(() => member.dashboard.streamCount === 0, 2000, 'the stream to close');
    }
  });

  test('the stream limit refuses one more with 503 and a clear body, and logs it', async () => {
    const limit = member.dashboard.settings.maxStreams;
    const open = await Promise.all(Array.from({ length: limit }, () => openEventStream(`${member.url}/events`)));
    try {
      assert.ok(open.every((stream) => stream.status === 200));
      const refused = await openEventStream(`${member.url}/events`);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers['retry-after'], '10');
      assert.equal(refused.headers['x-frame-options'], 'DENY');
      await refused.ended;
      assert.match(
        refused.comments.join(''),
        /too many dashboard streams: 3 are open on this server \(dashboard\.maxStreams\)/,
      );
      assert.ok(member.log().some((entry) => entry.event === 'dashboard-stream-refused' && entry.limit === limit));
    } finally {
      for (const stream of open) stream.close();
      await waitUntil(() => member.dashboard.streamCount === 0, 2000, 'the streams to close');
    }
    const again = await openEventStream(`${member.url}/events`);
    assert.equal(again.status, 200, 'a stream is accepted again once others closed');
    again.close();
    await waitUntil(() => member.dashboard.streamCount === 0, 2000, 'the stream to close');
  });

  test('a page that never reads is dropped at maxStreamUnwrittenBytes; a page that reads stays', async () => {
    const member = await startMember({ maxStreamUnwrittenBytes: 65_536, maxCheckinsPerFlush: 100 });
    const bound = member.dashboard.settings.maxStreamUnwrittenBytes;
    const reader = await openEventStream(`${member.url}/events`);
    const address = new URL(member.url);
    const stalled = net.connect({ host: address.hostname, port: Number(address.port) });
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    stalled.write(`GET /events HTTP/1.1\r\nHost: ${address.host}\r\n\r\n`);
    // Never read: the kernel buffers fill, then Node's, until the server gives up on it.
    stalled.pause();
    let closedByServer = false;
    stalled.on('close', () => (closedByServer = true));
    stalled.on('error', () => undefined);
    try {
      await waitUntil(() => member.dashboard.streamCount === 2, 2000, 'both streams');
      // Each flush sends at most maxCheckinsPerFlush (100) check-ins of about 280 bytes: 28 KB.
      const id = 'x'.repeat(240);
      let round = 0;
      while (!member.log().some((entry) => entry.event === 'dashboard-stream-dropped')) {
        assert.ok(round++ < 3000, 'the stalled stream was never dropped');
        const lines = Array.from({ length: 100 }, (_, i) => `IAMAT ${id}-${round}-${i} +1+1 1700000000\n`).join('');
        await exchange(member.port, lines);
        member.timers.advance(member.dashboard.settings.flushIntervalMs);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const dropped = member.log().find((entry) => entry.event === 'dashboard-stream-dropped') as LogEntry;
      assert.ok((dropped.unwritten as number) <= bound, `held ${String(dropped.unwritten)} bytes, at most ${bound}`);
      assert.equal(dropped.limit, bound);
      assert.equal(member.dashboard.streamCount, 1, 'the reading stream is still open');
      await waitUntil(() => reader.bytes() > bound, 5000, 'the reader to have read more than the bound');
      // Reading now drains what the kernel held, then the end the server sent.
      stalled.resume();
      await waitUntil(() => closedByServer, 10_000, 'the server to have closed the stalled connection');
    } finally {
      stalled.destroy();
      reader.close();
      await waitUntil(() => member.dashboard.streamCount === 0, 2000, 'the streams to close');
      await member.close();
    }
  });

  test('/clients answers points, or a density grid past the limit, without blocking', async () => {
    await exchange(member.port, 'IAMAT tokyo +35.6762+139.6503 1700000000\nIAMAT fiji +17.7134+178.0650 1700000000\n');
    const all = (await (await fetch(`${member.url}/clients`)).json()) as SnapshotResult;
    assert.equal(all.total, member.server.store.size);
    assert.equal(all.points.length, all.total);
    assert.equal(all.grid, undefined);
    const box = (await (await fetch(`${member.url}/clients?bbox=130,0,180,40`)).json()) as SnapshotResult;
    assert.deepEqual(box.points.map((p) => p.id).sort(), ['fiji', 'tokyo']);
    const dense = (await (await fetch(`${member.url}/clients?limit=3&cols=4&rows=2`)).json()) as SnapshotResult;
    assert.equal(dense.points.length, 0);
    assert.equal(dense.grid?.cols, 4);
    const counted = (dense.grid?.cells ?? []).filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0);
    assert.equal(counted, dense.total);
    const bad = await fetch(`${member.url}/clients?bbox=1,2,3`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /bbox/);
  });

  test('/client answers the AT line and the places WHATSAT would, as a counted look-up', async () => {
    await exchange(member.port, 'IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503\n');
    const before = findSample(
      parsePrometheusText(await (await fetch(`${member.url}/metrics`)).text()),
      'herd_places_lookups_total',
      { source: 'scripted', status: 'OK' },
    );
    const response = await fetch(`${member.url}/client?id=kiwi.cs.ucla.edu&radius=7.5&limit=3`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    const answer = (await response.json()) as { atLine: string; radiusKm: number; places: NearbySearchResponse };
    assert.match(
      answer.atLine,
      /^AT Solo [+-]\d+\.\d{9} kiwi\.cs\.ucla\.edu \+34\.068930-118\.445127 1621464827\.959498503$/,
    );
    assert.equal(answer.places.results[0]?.name, 'Place within 7500 m');
    assert.deepEqual(member.places.asked.at(-1), {
      location: { latitude: 34.06893, longitude: -118.445127 },
      radiusMeters: 7500,
      limit: 3,
    });
    const afterCount = findSample(
      parsePrometheusText(await (await fetch(`${member.url}/metrics`)).text()),
      'herd_places_lookups_total',
      { source: 'scripted', status: 'OK' },
    );
    assert.equal(afterCount, (before ?? 0) + 1, 'herd_places_lookups_total counts it');
    assert.equal((await fetch(`${member.url}/client?id=nobody`)).status, 404);
    assert.equal((await fetch(`${member.url}/client?id=kiwi.cs.ucla.edu&radius=51`)).status, 400);
    assert.equal((await fetch(`${member.url}/client?id=kiwi.cs.ucla.edu&limit=21`)).status, 400);
    // Exactly WHATSAT's operands: what Number() would take but WHATSAT refuses is refused here too.
    assert.equal((await fetch(`${member.url}/client?id=kiwi.cs.ucla.edu&radius=0x10`)).status, 400);
    assert.equal((await fetch(`${member.url}/client?id=kiwi.cs.ucla.edu&limit=1e1`)).status, 400);
  });

  test('/client without an id is 400; past dashboard.maxLookupsInFlight a look-up is 503 and logged, and the one in flight still answers', async () => {
    const busy = await startMember({ maxLookupsInFlight: 1 });
    try {
      assert.equal((await fetch(`${busy.url}/client`)).status, 400);
      await exchange(busy.port, 'IAMAT slow +34.068930-118.445127 1700000000\n');
      let release: () => void = () => undefined;
      busy.places.hold = new Promise((resolve) => (release = resolve));
      const first = fetch(`${busy.url}/client?id=slow&radius=5&limit=3`);
      await waitUntil(() => busy.places.asked.length === 1, 5000, 'the first look-up to reach the places source');
      const refused = await fetch(`${busy.url}/client?id=slow&radius=5&limit=3`);
      assert.equal(refused.status, 503);
      assert.match(((await refused.json()) as { error: string }).error, /dashboard\.maxLookupsInFlight/);
      assert.ok(busy.log().some((entry) => entry.event === 'dashboard-busy' && entry.what === 'places'));
      assert.equal(busy.places.asked.length, 1, 'the refused one never reached the source');
      release();
      assert.equal((await first).status, 200);
    } finally {
      await busy.close();
    }
  });

  test('a request naming another host (DNS rebinding) is refused with 421; IP addresses and localhost are not', async () => {
    const get = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const request = http.get(`${member.url}/clients`, { headers: { Host: host }, agent: false }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
      });
    const port = new URL(member.url).port;
    assert.equal(await get(`evil.example:${port}`), 421);
    assert.equal(await get(`127.0.0.1:${port}`), 200);
    assert.equal(await get(`localhost:${port}`), 200);
    assert.ok(member.log().some((entry) => entry.event === 'dashboard-host-refused' && entry.host === 'evil.example'));
    // The admin server's own routes are as before.
    const status = await new Promise<number>((resolve) =>
      http.get(`${member.url}/healthz`, { headers: { Host: 'evil.example' }, agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }),
    );
    assert.equal(status, 200);
  });

  test('/herd describes the members and their rows, and carries no secret', async () => {
    const response = await fetch(`${member.url}/herd`);
    const text = await response.text();
    const herd = JSON.parse(text) as {
      self: string;
      servers: { name: string; location: { lat: number } }[];
      rows: { state: string }[];
    };
    assert.equal(herd.self, 'Solo');
    assert.equal(herd.servers[0]?.location.lat, 34.07);
    assert.equal(herd.rows[0]?.state, 'up');
    assert.doesNotMatch(text, /secret|apiKey|key=/i);
  });
});
