/** The descriptor budget reads /proc only while clients connect (docs/operations.md "When descriptors run out"). */
import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { DESCRIPTOR_SAMPLE_MS, DescriptorBudget, type DescriptorSource } from '../../src/server/descriptors.js';

/** A source with a fixed limit and open count that counts its readings. */
function countingSource(limit: number, open: number): DescriptorSource & { readings: number } {
  const source = {
    readings: 0,
    readLimit: () => Promise.resolve(limit),
    countOpen: () => {
      source.readings++;
      return Promise.resolve(open);
    },
  };
  return source;
}

/** Lets the readings' promises settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the descriptor budget', () => {
  test('reads at start, then every interval only while clients ask for room, and sleeps after a quiet interval', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      let connections = 0;
      const source = countingSource(256, 40);
      const budget = new DescriptorBudget(() => connections, 64, source);
      await budget.start();
      assert.equal(source.readings, 1);
      mock.timers.tick(DESCRIPTOR_SAMPLE_MS * 5);
      await settle();
      assert.equal(source.readings, 1, 'no client: no reading');

      connections = 10;
      assert.equal(budget.clientRoom(), 256 - 64 - 40 - 10, 'room from the last reading and the connections since');
      await settle();
      assert.equal(source.readings, 2, 'the first client after a quiet spell reads at once');
      mock.timers.tick(DESCRIPTOR_SAMPLE_MS);
      await settle();
      assert.equal(source.readings, 3, 'a client in the interval: read again');
      mock.timers.tick(DESCRIPTOR_SAMPLE_MS * 5);
      await settle();
      assert.equal(source.readings, 3, 'a quiet interval: the readings sleep');
      assert.equal(budget.clientRoom(), 256 - 64 - 40);
      await settle();
      assert.equal(source.readings, 4);
      budget.stop();
    } finally {
      mock.timers.reset();
    }
  });

  test('keeps a quarter of a small limit, and has no bound where the limit is unknown', async () => {
    const budget = new DescriptorBudget(() => 0, 64, countingSource(100, 10));
    await budget.start();
    assert.equal(budget.reserveOf(100), 25);
    assert.equal(budget.clientRoom(), 100 - 25 - 10);
    budget.stop();
    const unknown: DescriptorSource = {
      readLimit: () => Promise.resolve(undefined),
      countOpen: () => Promise.resolve(undefined),
    };
    const open = new DescriptorBudget(() => 0, 64, unknown);
    await open.start();
    assert.equal(open.clientRoom(), Number.POSITIVE_INFINITY);
    open.stop();
  });
});
