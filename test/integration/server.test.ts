/**
 * One HerdServer in-process on 127.0.0.1 port 0 with a controllable places source: reply order when
 * a WHATSAT is slow, places failures and time-outs, framing over a real socket, limits, peers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PlacesError } from '../../src/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { NearbySearchResponse } from '../../src/places/provider.js';
import { HerdServer, type HerdServerOptions } from '../../src/server/herd-server.js';
import { fixedWallClock, type WallClock } from '../../src/protocol/time.js';
import { exchange, waitUntil } from '../helpers/herd-process.js';
import { openLineClient, roundTrip } from '../helpers/line-client.js';
import { ScriptedPlaces, linkPair, withServer as withSolo } from '../helpers/one-server.js';

const okResponse = (names: string[]): NearbySearchResponse => ({
  html_attributions: [],
  results: names.map((name, i) => ({
    geometry: { location: { lat: i, lng: i } },
    name,
    place_id: `p${i}`,
    types: ['locality'],
  })),
  status: 'OK',
});

const FIXED_CLOCK: WallClock = fixedWallClock(1_700_000_010_500_000_000n);

/** The one-server herd of test/helpers/one-server.ts on a clock fixed at 1700000010.5. */
function withServer(
  options: Partial<HerdServerOptions>,
  body: (server: HerdServer, port: number) => Promise<void>,
): Promise<void> {
  return withSolo({ clock: FIXED_CLOCK, ...options }, body);
}

describe('HerdServer', { timeout: 60_000 }, () => {
  test('the AT reply carries the exact time difference in nanoseconds', async () => {
    await withServer({}, async (_server, port) => {
      const reply = await exchange(
        port,
        'IAMAT kiwi +34.068930-118.445127 1700000000.000000001\nIAMAT ahead +34-118 1700000011\n',
      );
      assert.equal(
        reply,
        'AT Solo +10.499999999 kiwi +34.068930-118.445127 1700000000.000000001\nAT Solo -0.500000000 ahead +34-118 1700000011\n',
      );
    });
  });

  test('a client id is its bytes: one that is not UTF-8 gets "? " echoed byte for byte, two ids never become one', async () => {
    await withServer({}, async (server, port) => {
      // As binary strings: one character per byte, so the replies are compared byte for byte.
      const lines = [
        'IAMAT \xfe +10.000000+010.000000 1700000000',
        'WHATSAT \xff 50 1',
        'IAMAT caf\xc3\xa9 +10.000000+010.000000 1700000000',
        'IAMAT cafe\xcc\x81 +20+20 1700000000',
      ];
      const reply = await exchange(port, Buffer.from(`${lines.join('\n')}\n`, 'latin1'), 10_000, 'latin1');
      assert.equal(
        reply,
        [
          '? IAMAT \xfe +10.000000+010.000000 1700000000',
          '? WHATSAT \xff 50 1',
          'AT Solo +10.500000000 caf\xc3\xa9 +10.000000+010.000000 1700000000',
          'AT Solo +10.500000000 cafe\xcc\x81 +20+20 1700000000',
          '',
        ].join('\n'),
      );
      assert.equal(server.store.size, 2, 'é and e + U+0301 are two clients');
      const whatsat = await exchange(port, Buffer.from('WHATSAT caf\xc3\xa9 1 1\n', 'latin1'), 10_000, 'latin1');
      assert.ok(whatsat.startsWith('AT Solo +10.500000000 caf\xc3\xa9 +10.000000+010.000000 1700000000\n{'), whatsat);
    });
  });

  test('an IAMAT more than maxFutureSkewMs ahead of the server clock gets "? " and is not stored', async () => {
    await withServer({ limits: { maxFutureSkewMs: 60_000 } }, async (server, port) => {
      // The fixed clock reads 1700000010.5: 60 s ahead is allowed, 60.5 s is not.
      const reply = await exchange(port, 'IAMAT ok +1+1 1700000070.5\nIAMAT far +1+1 1700000071\n');
      assert.equal(reply, 'AT Solo -60.000000000 ok +1+1 1700000070.5\n? IAMAT far +1+1 1700000071\n');
      assert.equal(server.store.get('far'), undefined);
    });
  });

  test('in sync mode the AT reply waits for the commit of its update', async () => {
    const committed: string[] = [];
    let release: () => void = () => undefined;
    const persistence = {
      written: [] as string[],
      write(record: { clientId: string }) {
        this.written.push(record.clientId);
      },
      status: () => ({ state: 'ok' as const, pendingRows: 0 }),
      attach: () => undefined,
      whenCommitted() {
        return new Promise<void>((resolve) => {
          release = () => {
            committed.push(...this.written);
            resolve();
          };
        });
      },
    };
    await withServer({ persistence, syncCommit: true }, async (_server, port) => {
      const client = await openLineClient(port);
      client.socket.end('IAMAT durable +1+1 1700000000\n');
      await waitUntil(() => persistence.written.length === 1, 5000, 'the write');
      // A reply the server writes after it handled the IAMAT: no AT may have come before it.
      await roundTrip(port);
      assert.deepEqual(client.lines, [], 'no AT before the commit');
      release();
      await client.closed;
      assert.match(client.lines[0] ?? '', /^AT Solo \S+ durable /);
      assert.deepEqual(committed, ['durable']);
    });
  });

  test('a slow WHATSAT is answered before the IAMAT sent after it on the same connection', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const places = new ScriptedPlaces(async () => {
      await gate;
      return okResponse(['Slowtown']);
    });
    await withServer({ places }, async (server, port) => {
      await exchange(port, 'IAMAT c1 +1+1 1700000000\n');
      const pending = exchange(port, 'WHATSAT c1 10 3\nIAMAT c2 +2+2 1700000000\n');
      // The IAMAT behind the held look-up is handled (stored) before the look-up answers.
      await waitUntil(() => places.asked.length === 1 && server.store.get('c2') !== undefined, 5000, 'c2 stored');
      release();
      const reply = await pending;
      const lines = reply.split('\n');
      assert.equal(lines[0], 'AT Solo +10.500000000 c1 +1+1 1700000000');
      assert.equal(lines[1], '{');
      assert.ok(reply.includes('"name" : "Slowtown"'));
      assert.ok(reply.endsWith('}\n\nAT Solo +10.500000000 c2 +2+2 1700000000\n'), JSON.stringify(reply.slice(-80)));
      assert.deepEqual(places.asked[0], { location: { latitude: 1, longitude: 1 }, radiusMeters: 10_000, limit: 3 });
    });
  });

  test('a places source that fails still gets the AT line and a legacy error document', async () => {
    const places = new ScriptedPlaces(async () => {
      throw new PlacesError('OVER_QUERY_LIMIT', 'You have exceeded your rate-limit for this API.');
    });
    await withServer({ places }, async (_server, port) => {
      const reply = await exchange(port, 'IAMAT c1 +1+1 1700000000\nWHATSAT c1 1 1\n');
      const body = reply.slice(reply.indexOf('\n', reply.indexOf('\n') + 1) + 1);
      assert.deepEqual(JSON.parse(body), {
        error_message: 'You have exceeded your rate-limit for this API.',
        html_attributions: [],
        results: [],
        status: 'OVER_QUERY_LIMIT',
      });
    });
  });

  test('a places source that never answers is cut off at placesTimeoutMs with UNKNOWN_ERROR', async () => {
    const places = new ScriptedPlaces(() => new Promise<NearbySearchResponse>(() => undefined));
    await withServer({ places, limits: { placesTimeoutMs: 200 } }, async (_server, port) => {
      const started = Date.now();
      const reply = await exchange(port, 'IAMAT c1 +1+1 1700000000\nWHATSAT c1 1 1\n');
      assert.ok(Date.now() - started >= 190);
      const json = JSON.parse(reply.slice(reply.indexOf('{'))) as NearbySearchResponse;
      assert.equal(json.status, 'UNKNOWN_ERROR');
      assert.match(json.error_message ?? '', /did not answer within 200 ms/);
    });
  });

  test('more results than the bound are cut to the bound', async () => {
    const places = new ScriptedPlaces(async () => okResponse(['a', 'b', 'c', 'd']));
    await withServer({ places }, async (_server, port) => {
      const reply = await exchange(port, 'IAMAT c1 +1+1 1700000000\nWHATSAT c1 1 2\n');
      const json = JSON.parse(reply.slice(reply.indexOf('{'))) as NearbySearchResponse;
      assert.deepEqual(
        json.results.map((r) => r.name),
        ['a', 'b'],
      );
    });
  });

  test('commands sent one byte at a time are framed like whole ones', async () => {
    await withServer({}, async (_server, port) => {
      const text = 'IAMAT caf\u00e9 +1+1 1700000000\r\nBOGUS \u00fcber\nIAMAT x +2+2 1700000000';
      const bytes = Buffer.from(text, 'utf8');
      const reply = await exchange(
        port,
        [...bytes].map((byte) => Buffer.from([byte])),
      );
      assert.equal(
        reply,
        'AT Solo +10.500000000 caf\u00e9 +1+1 1700000000\n? BOGUS \u00fcber\nAT Solo +10.500000000 x +2+2 1700000000\n',
      );
    });
  });

  test('an over-long line gets one "? " with its first maxLineBytes bytes and the connection closes', async () => {
    await withServer({ limits: { maxLineBytes: 64 } }, async (_server, port) => {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port });
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        socket.write('IAMAT ok +1+1 1700000000\n');
        // Keeps sending without a newline; the server must cut it off rather than buffer it.
        const filler = 'x'.repeat(1000);
        for (let i = 0; i < 100; i++) socket.write(filler);
      });
      assert.equal(reply, `AT Solo +10.500000000 ok +1+1 1700000000\n? ${'x'.repeat(64)}\n`);
    });
  });

  test('HELLO from a server that is not a neighbour is an invalid command', async () => {
    await withServer({ neighbours: ['Friend'] }, async (_server, port) => {
      assert.equal(await exchange(port, 'HELLO Stranger 1\n'), '? HELLO Stranger 1\n');
    });
  });
});

describe('two linked HerdServers', { timeout: 60_000 }, () => {
  test('floods in both directions, ignores stale updates, and re-links after a restart on the same port', async () => {
    const places = new ScriptedPlaces(async () => okResponse([]));
    const common = {
      host: '127.0.0.1',
      places,
      logger: silentLogger(),
      links: { reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 100 },
    };
    const a = new HerdServer({ ...common, name: 'A', port: 0, neighbours: ['B'] });
    let b = new HerdServer({ ...common, name: 'B', port: 0, neighbours: ['A'] });
    const { listeningA, listeningB, portA, portB } = await linkPair(a, b);
    try {
      await exchange(portA, 'IAMAT c +1+1 1700000005\n');
      await waitUntil(() => b.store.get('c')?.timeNs === 1_700_000_005_000_000_000n, 5000, 'B to learn c');
      // An older update at B is acknowledged but neither stored nor flooded.
      const stale = await exchange(portB, 'IAMAT c +9+9 1700000001\n');
      assert.match(stale, /^AT B \S+ c \+9\+9 1700000001\n$/);
      assert.equal(b.store.get('c')?.latitude, 1);
      await exchange(portB, 'IAMAT d +2+2 1700000000\n');
      await waitUntil(() => a.store.get('d') !== undefined, 5000, 'A to learn d');
      assert.equal(a.store.get('c')?.latitude, 1);

      await b.close();
      b = new HerdServer({ ...common, name: 'B', port: portB, peerPort: listeningB.peer.port, neighbours: ['A'] });
      await b.listen();
      b.setPeerAddress('A', { host: '127.0.0.1', port: listeningA.peer.port });
      await waitUntil(
        () => a.peerLinks.get('B')?.status === 'up' && (a.peerLinks.get('B')?.connects ?? 0) >= 2,
        5000,
        'A to re-link to B',
      );
      await exchange(portA, 'IAMAT e +3+3 1700000000\n');
      await waitUntil(() => b.store.get('e') !== undefined, 5000, 'the restarted B to learn e');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
