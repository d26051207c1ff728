/**
 * The cost scenario's figures in the report: each figure the median of its rounds, its ratio to the
 * echo the median of the rounds' own ratios (not the ratio of the medians), and every round's value
 * beside it in the table; the idle herd beside its floor.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { costMedians, costRows, type CostResult, type CostRound } from '../scenarios/cost.js';
import type { LightCostResult } from '../scenarios/cost-light.js';

const ROUNDS: CostRound[] = [
  { echo_line: 2.0, iamat: 9.0, flood_stored: 6.0, flood_stale: 2.0, whatsat: 8.0 },
  { echo_line: 1.0, iamat: 5.0, flood_stored: 4.0, flood_stale: 1.2, whatsat: 7.0 },
  { echo_line: 1.5, iamat: 4.5, flood_stored: 3.0, flood_stale: 1.0, whatsat: 6.0 },
];

const LIGHT: LightCostResult = {
  light_iamat: 150,
  light_echo_line: 90,
  light_ratio: 1.8,
  light_rounds: [
    { iamat: 150, echo_line: 60 },
    { iamat: 160, echo_line: 90 },
    { iamat: 140, echo_line: 100 },
  ],
  light_rate_per_s: 500,
  idle_cpu_percent: { Alford: 0.15, Ball: 0.12 },
  idle_floor_cpu_percent: 0.1,
  idle_window_ms: 10_000,
};

function costOf(rounds: readonly CostRound[]): CostResult {
  return {
    ...costMedians(rounds),
    operations: { iamat: 100_000, floods: 100_000, whatsat: 20_000 },
    light: LIGHT,
  };
}

describe('cost figures over rounds', () => {
  it("takes each figure's median, and the median of the rounds' own ratios to the echo", () => {
    const cost = costOf(ROUNDS);
    assert.equal(cost.echo_line, 1.5);
    assert.equal(cost.iamat, 5.0);
    // The rounds' ratios are 4.5, 5 and 3: their median is 4.5, where the medians' ratio would be 3.33.
    assert.equal(cost.ratios.iamat, 4.5);
    assert.equal(cost.ratios.flood_stored, 3);
    assert.equal(cost.ratios.flood_stale, 1);
    assert.equal(cost.ratios.whatsat, 4);
    assert.deepEqual(cost.rounds, ROUNDS);
  });

  it('prints the median with every round beside it, and the ratio held to its target', () => {
    const rows = costRows(costOf(ROUNDS));
    const iamat = rows.find((row) => row[1].startsWith('server CPU per IAMAT, us'));
    assert.deepEqual(iamat, [
      'cost',
      'server CPU per IAMAT, us (100,000, W=16, median of 3)',
      '5.0',
      'rounds 9.0, 5.0, 4.5 (4.5, 5.0, 3.0x)',
      '4.5x echo',
      '<= 4x',
    ]);
    const echo = rows.find((row) => row[1].startsWith('echo server CPU per line, us'));
    assert.equal(echo?.[3], 'rounds 2.0, 1.0, 1.5');
    const light = rows.find((row) => row[1].startsWith('server CPU per IAMAT at 500/s'));
    assert.equal(light?.[1], 'server CPU per IAMAT at 500/s, one at a time, us, median of 3');
    assert.equal(light?.[3], 'rounds 150.0, 160.0, 140.0 (2.5, 1.8, 1.4x)');
    assert.equal(light?.[4], '1.8x echo');
  });

  it('prints the idle herd beside its floor, read in the same window', () => {
    const rows = costRows(costOf(ROUNDS));
    const floor = rows.find((row) => row[1].startsWith('idle floor: bare node'));
    assert.equal(floor?.[2], '0.10');
    const idle = rows.find((row) => row[1].startsWith('idle server CPU'));
    assert.deepEqual(idle?.slice(2), ['0.15', 'Alford 0.15, Ball 0.12', '1.5x', '<= 0.2']);
  });

  it('prints one round (--quick) without a spread', () => {
    const rows = costRows(costOf(ROUNDS.slice(0, 1)));
    const iamat = rows.find((row) => row[1].startsWith('server CPU per IAMAT, us'));
    assert.equal(iamat?.[1], 'server CPU per IAMAT, us (100,000, W=16)');
    assert.equal(iamat?.[3], '');
    assert.equal(iamat?.[4], '4.5x echo');
  });
});
