/** Hop counts over a herd's link graph (src/peers/hop-counts.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HopCounts } from '../../src/peers/hop-counts.js';

// The shipped herd's ring: Alford-Hamilton-Holiday-Ball-Welsh-Alford, plus a server on its own.
const RING: [string, string][] = [
  ['Alford', 'Hamilton'],
  ['Alford', 'Welsh'],
  ['Ball', 'Welsh'],
  ['Ball', 'Holiday'],
  ['Hamilton', 'Holiday'],
  ['Lone', 'Lone2'],
];

test("hops from each root to Alford's neighbours are the shortest paths, either way round the ring", () => {
  const hops = new HopCounts(RING, ['Hamilton', 'Welsh']);
  assert.deepEqual(
    ['Alford', 'Ball', 'Hamilton', 'Holiday', 'Welsh'].map((root) => [
      hops.hops(root, 'Hamilton'),
      hops.hops(root, 'Welsh'),
    ]),
    [
      [1, 1],
      [2, 1],
      [0, 2],
      [1, 2],
      [2, 0],
    ],
  );
});

test('an unknown root, a server not kept, or one with no path is Infinity away', () => {
  const hops = new HopCounts(RING, ['Hamilton', 'Welsh']);
  assert.equal(hops.hops('Nowhere', 'Hamilton'), Infinity);
  assert.equal(hops.hops('Ball', 'Holiday'), Infinity, 'not one of the neighbours kept');
  assert.equal(hops.hops('Lone', 'Hamilton'), Infinity, 'another component');
});
