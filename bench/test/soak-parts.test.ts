/**
 * The soak's parts (bench/churn-load.ts, bench/scenarios/soak.ts): the load with a new connection
 * per request counts right replies of a real server as right, wrong ones as wrong and refused
 * connections as failed; the verdict's growth is read against the reference sample.
 */
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChurnLoad, WRONG_SAMPLES, type ChurnLoadOptions, type ChurnWindow } from '../churn-load.js';
import {
  RETAINED,
  RSS,
  formatSoakSample,
  soakGrowth,
  soakLevelGrowth,
  soakSlope,
  type SoakSample,
} from '../scenarios/soak.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { ScriptedPlaces, soloOptions } from '../../test/helpers/one-server.js';

/** Runs the load for `ms` at `rate` per second against `port`, and returns its one window. */
async function churn(port: number, ms: number, options: Partial<ChurnLoadOptions> = {}): Promise<ChurnWindow> {
  const load = new ChurnLoad({
    targets: [{ name: 'Solo', host: '127.0.0.1', port }],
    ratePerSecond: 400,
    clients: 50,
    iamatShare: 0.5,
    settleMs: 100,
    maxOpen: 100,
    timeoutMs: 5000,
    seed: 7,
    ...options,
  });
  load.start();
  await new Promise((resolve) => setTimeout(resolve, ms));
  await load.stop();
  return load.take();
}

describe('the churn load', () => {
  let server: HerdServer;
  let port: number;
  before(async () => {
    server = new HerdServer(soloOptions({ places: new ScriptedPlaces() }));
    port = (await server.listen()).client.port;
  });
  after(async () => {
    await server?.close();
  });

  it("counts a real server's IAMAT and WHATSAT replies as right, one connection each", async () => {
    const window = await churn(port, 2000);
    assert.deepEqual(window.failed, {});
    assert.equal(window.timedOut, 0);
    assert.equal(window.wrong, 0, window.wrongSamples.join('\n'));
    assert.ok(window.whatsat > 0, 'WHATSATs of acknowledged client ids');
    assert.ok(window.iamat > window.whatsat, 'IAMATs until ids are acknowledged, then half');
    assert.equal(window.ok, window.started - window.skipped);
    assert.equal(window.latency.totalCount, window.ok);
    assert.ok(server.store.size > 20 && server.store.size <= 50, `${server.store.size} clients`);
  });

  it('counts replies that are not the right ones as wrong, with a few samples', async () => {
    // A server that acknowledges under another name: a valid AT line, but not this server's.
    const impostor = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        const [, id, location, time] = chunk.toString('utf8').trim().split(' ');
        socket.end(`AT Other +0.000000001 ${id} ${location} ${time}\n`);
      });
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const window = await churn((impostor.address() as net.AddressInfo).port, 300, { iamatShare: 1 });
      assert.ok(window.wrong > 0);
      assert.equal(window.ok, 0);
      assert.equal(window.wrongSamples.length, Math.min(WRONG_SAMPLES, window.wrong));
      assert.match(window.wrongSamples[0] ?? '', /^Solo <- IAMAT soak-\d+ \S+ \S+ -> "AT Other /);
    } finally {
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  });

  it('counts refused connections as failed, by error code', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const window = await churn(deadPort, 200);
    assert.ok((window.failed.ECONNREFUSED ?? 0) > 0, JSON.stringify(window.failed));
    assert.equal(window.ok + window.wrong, 0);
  });
});

describe('the soak verdict', () => {
  const MB = 1048576;
  /** A sample of two servers; each retains 40 MB less than its RSS unless `retained` says otherwise. */
  const sample = (
    atS: number,
    rss: [number, number],
    fds: [number, number],
    retained: [number, number] = [rss[0] - 40, rss[1] - 40],
  ): SoakSample => ({
    at_s: atS,
    requests_per_s: 1800,
    served_per_s: 1790,
    iamat_share: 0.8,
    ok: 108_000,
    wrong: 0,
    failed: 0,
    timed_out: 0,
    skipped: 0,
    p50_ms: 1.25,
    p99_ms: 8.5,
    servers: [
      ...(['Alford', 'Ball'] as const).map((name, i) => ({
        name,
        rss_bytes: (rss[i] as number) * MB,
        retained_bytes: (retained[i] as number) * MB,
        heap_used_bytes: (20 + i) * MB,
        heap_total_bytes: 50 * MB,
        external_bytes: 7 * MB,
        fds: fds[i] as number,
      })),
    ],
  });

  it('is the largest growth of any server after the reference, in per cent of a measure and descriptors', () => {
    const samples = [
      sample(60, [150, 150], [37, 37]),
      sample(300, [120, 100], [37, 37]),
      sample(360, [122, 104], [38, 37]),
      sample(420, [121, 103], [36, 40]),
    ];
    // The early 150 MB does not count: the reference is the sample at 300 s.
    assert.deepEqual(soakGrowth(samples, 300, RSS), { percent: 4, fds: 3 });
    // Ball retains 60 MB at the reference and 64 MB at most later.
    assert.deepEqual(soakGrowth(samples, 300, RETAINED), { percent: 6.7, fds: 3 });
    assert.deepEqual(soakGrowth(samples, 420, RSS), { percent: null, fds: null });
    assert.deepEqual(soakGrowth([], 300, RETAINED), { percent: null, fds: null });
  });

  it('judges retained memory, not the heap V8 keeps for garbage: RSS may swing while what is retained stays flat', () => {
    // What the soak saw: the heap V8 reserves grows around a flap (RSS +30%), and shrinks later.
    const samples = [
      sample(300, [150, 140], [37, 37], [95, 86]),
      sample(360, [195, 150], [37, 37], [96, 87]),
      sample(420, [160, 182], [37, 37], [95, 86]),
    ];
    assert.deepEqual(soakGrowth(samples, 300, RSS), { percent: 30, fds: 0 });
    assert.deepEqual(soakGrowth(samples, 300, RETAINED), { percent: 1.2, fds: 0 });
    // A leak climbs in both.
    const leaking = [
      sample(300, [150, 140], [37, 37], [95, 86]),
      sample(360, [160, 150], [37, 37], [100, 91]),
      sample(420, [170, 160], [37, 37], [105, 96]),
    ];
    assert.deepEqual(soakGrowth(leaking, 300, RETAINED), { percent: 11.6, fds: 0 });
    assert.equal(soakSlope(leaking, 299, RETAINED), 5);
  });

  it('judges the level: the median of the last samples against the median of the first ones from the reference', () => {
    // Flat at 100 MB retained with one-sample swings of +-8% (a backlog of connections, a flap).
    const swings = [100, 108, 93, 101, 99, 92, 100, 107, 100, 101];
    const flat = swings.map((mb, i) => sample(300 + 60 * i, [mb + 60, 150], [37, 37], [mb, 90]));
    assert.deepEqual(soakGrowth(flat, 300, RETAINED), { percent: 8, fds: 0 });
    assert.equal(soakLevelGrowth(flat, 300, RETAINED, 5), 0);
    // The same swings on a climb of 1 MB a minute: the level moves by 5 MB (103 to 108).
    const climbing = swings.map((mb, i) => sample(300 + 60 * i, [mb + 60 + i, 150], [37, 37], [mb + i, 90]));
    assert.equal(soakLevelGrowth(climbing, 300, RETAINED, 5), 4.9);
    // Samples before the reference do not count; too few after it give no level.
    assert.equal(soakLevelGrowth([sample(60, [300, 300], [37, 37]), ...flat], 300, RETAINED, 5), 0);
    assert.equal(soakLevelGrowth(flat.slice(0, 9), 300, RETAINED, 5), null);
  });

  it("has a trend: the steepest least-squares slope of any server's measure after the reference, MB per minute", () => {
    const samples = [
      sample(300, [100, 100], [37, 37]),
      sample(360, [110, 100], [37, 37]),
      sample(420, [100, 102], [37, 37]),
      sample(480, [110, 104], [37, 37]),
      sample(540, [100, 106], [37, 37]),
    ];
    // Alford swings about a flat line (its slope is -2), Ball climbs 2 MB a minute.
    assert.equal(soakSlope(samples, 300, RSS), 2);
    assert.equal(soakSlope(samples, 300, RETAINED), 2);
    assert.equal(soakSlope(samples.slice(0, 2), 300, RSS), null);
  });

  it('prints one line per sample', () => {
    assert.equal(
      formatSoakSample(sample(300, [120, 100], [37, 38])),
      'soak  5:00  1800/s served 1790/s wrong 0 failed 0 skipped 0 p50 1.3 ms p99 8.5 ms  |  Alford 120/80/20/37  Ball 100/60/21/38  (RSS MB/retained MB/live heap MB/fds)',
    );
  });
});
