/**
 * The summary of bench/process-cpu-probe.cjs's lines (bench/process-cpu-summary.ts): processes by kind, and a
 * server's CPU split at listening and at SIGTERM.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOf, summarize } from '../process-cpu-summary.js';

describe('process-cpu-summary', () => {
  test('a process is named by its herd command, else by its script', () => {
    assert.equal(kindOf('main.js serve Alford --config herd.json'), 'herd serve');
    assert.equal(kindOf('main.js --version'), 'herd --version');
    assert.equal(kindOf('stop-two.test.js'), 'stop-two.test.js');
  });

  test("a server's CPU is split at listening and at SIGTERM; a process that never listened is all life", () => {
    const totals = new Map(
      summarize([
        { argv: 'main.js serve A', listen: 300, term: 900, exit: 950 },
        { argv: 'main.js serve B', listen: 250, exit: 400 },
        { argv: 'main.js start --config x', exit: 500 },
      ]),
    );
    assert.deepEqual(totals.get('herd serve'), { count: 2, cpu: 1350, toListen: 550, life: 750, stop: 50 });
    assert.deepEqual(totals.get('herd start'), { count: 1, cpu: 500, toListen: 0, life: 500, stop: 0 });
    assert.deepEqual([...totals.keys()], ['herd serve', 'herd start'], 'largest CPU first');
  });
});
