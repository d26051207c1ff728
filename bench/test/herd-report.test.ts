/**
 * The herd ingest scenario in the report: propagation at 1k/s stands beside its floor (bare relays on
 * the same links, bench/scale-floor.ts) in the JSON, as a ratio of the p99s, and in the table, as a
 * row of its own; a `--config` herd, whose links the bench does not know, has neither.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, formatTable, type ScenarioResults } from '../report.js';
import type { HerdIngestResult } from '../scenarios/herd-ingest.js';

const META = {
  startedAt: new Date('2026-12-04T12:00:00Z'),
  durationMs: 60_000,
  quick: false,
  logLevel: 'info',
  target: 'local',
  errors: {},
  skipped: {},
  seconds: {},
};

function herdResult(floor: HerdIngestResult['floor_at_1k']): HerdIngestResult {
  return {
    rate: 30_000,
    ack_rate: 31_000,
    propagation_p50_ms: 150,
    propagation_p99_ms: 600,
    propagation_p50_ms_at_1k: 0.3,
    propagation_p99_ms_at_1k: 9,
    propagation_p999_ms_at_1k: 20,
    warm_at_1k: { count: 5000, p50_ms: 0.2, p99_ms: 2.4, p999_ms: 6, max_ms: 9 },
    floor_at_1k: floor,
    updates: 300_000,
    servers: 5,
  };
}

function reportOf(herd: HerdIngestResult): ReturnType<typeof buildReport> {
  const results: ScenarioResults = { herd };
  return buildReport(results, META);
}

describe('herd ingest beside its floor', () => {
  it('reports the p99 at 1k/s as a ratio to the floor, and the floor as a row of its own', () => {
    const floor = { count: 5000, p50_ms: 0.06, p99_ms: 1.5, p999_ms: 3.5, max_ms: 4 };
    const report = reportOf(herdResult(floor));
    assert.equal(report.herd?.propagation_p99_ratio_to_floor_at_1k, 6);
    assert.equal(report.herd?.warm_p99_ratio_to_floor_at_1k, 1.6);
    assert.deepEqual(report.herd?.floor_at_1k, floor);
    const lines = formatTable(report).split('\n');
    const floorRow = lines.find((line) => line.includes("floor: bare relays on the herd's links at 1k/s"));
    assert.ok(floorRow?.includes('0.06 / 1.50 / 3.50'), `the floor's latencies are in the row: ${floorRow}`);
    const fresh = lines.find((line) => line.includes('propagation at 1k/s, fresh herd'));
    assert.match(fresh ?? '', /0\.30 \/ 9\.00 \/ 20\.0\s+6\.00x p99\s*$/);
    const warm = lines.find((line) => line.includes('propagation at 1k/s, warm herd'));
    assert.match(warm ?? '', /0\.20 \/ 2\.40 \/ 6\.00\s+1\.60x p99\s+p99 <= 3 ms met/);
  });

  it("holds the warm herd to the target, not the fresh herd's first seconds", () => {
    const floor = { count: 5000, p50_ms: 0.06, p99_ms: 1.5, p999_ms: 3.5, max_ms: 4 };
    const slowWarm = {
      ...herdResult(floor),
      warm_at_1k: { count: 5000, p50_ms: 0.2, p99_ms: 3.5, p999_ms: 6, max_ms: 9 },
    };
    const check = (herd: HerdIngestResult) =>
      reportOf(herd).targets.find((target) => target.name === 'propagation p99 at 1k/s, warm herd, ms');
    assert.equal(check(herdResult(floor))?.met, true);
    assert.equal(check(slowWarm)?.met, false);
  });

  it('has no floor row and no ratio for a herd whose links the bench does not know', () => {
    const report = reportOf(herdResult(null));
    assert.equal(report.herd?.propagation_p99_ratio_to_floor_at_1k, null);
    assert.equal(report.herd?.warm_p99_ratio_to_floor_at_1k, null);
    const table = formatTable(report);
    assert.ok(!table.includes('bare relays'), table);
    assert.ok(!table.includes('x p99'), table);
  });
});
