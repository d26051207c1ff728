/**
 * The Prometheus text reader (`herd status` and the dashboard's herd view pick figures out of
 * `/metrics` with it), without sockets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findSample, parsePrometheusText } from '../helpers/prometheus-text.js';

describe('parsePrometheusText', () => {
  test('reads names, labels (with escapes) and values, and skips comments', () => {
    const text = [
      '# HELP a_total A counter.',
      '# TYPE a_total counter',
      'a_total{x="1",y="with \\"quote\\", comma and \\\\ slash"} 3',
      'b 4.5e-3',
      'c{le="+Inf"} +Inf',
      'd NaN 1700000000000',
      '',
      'broken{x="1" 2',
    ].join('\n');
    const samples = parsePrometheusText(text);
    assert.deepEqual(
      samples.map((s) => [s.name, s.labels, s.value]),
      [
        ['a_total', { x: '1', y: 'with "quote", comma and \\ slash' }, 3],
        ['b', {}, 0.0045],
        ['c', { le: '+Inf' }, Number.POSITIVE_INFINITY],
        ['d', {}, Number.NaN],
      ],
    );
    assert.equal(findSample(samples, 'a_total', { x: '1' }), 3);
    assert.equal(findSample(samples, 'a_total', { x: '2' }), undefined);
  });
});
