'use strict';
/**
 * What the bundle (build/bundle.ts) gets for `require('prom-client')`: prom-client 15's own index
 * (node_modules/prom-client/index.js), the same exports, but only the registry, the metric classes
 * and the process metrics are loaded with it. The rest (the Pushgateway, which loads http's client,
 * https, tls and zlib; the cluster aggregator; Summary, the validators and the bucket helpers) is
 * loaded at its first use, through a getter. The herd uses none of them, so each server's metrics
 * registry (src/observability/metrics-registry.ts, loaded once the server listens) no longer pays
 * for them (docs/benchmarks.md "Start-up CPU before and after listening (2026-12-03, shared box)").
 */
const Registry = require('prom-client/lib/registry');

exports.register = Registry.globalRegistry;
exports.Registry = Registry;
Object.defineProperty(exports, 'contentType', {
  configurable: false,
  enumerable: true,
  get() {
    return exports.register.contentType;
  },
  set(value) {
    exports.register.setContentType(value);
  },
});
exports.prometheusContentType = Registry.PROMETHEUS_CONTENT_TYPE;
exports.openMetricsContentType = Registry.OPENMETRICS_CONTENT_TYPE;
exports.Counter = require('prom-client/lib/counter');
exports.Gauge = require('prom-client/lib/gauge');
exports.Histogram = require('prom-client/lib/histogram');
exports.collectDefaultMetrics = require('prom-client/lib/defaultMetrics');

/** Each export loaded at its first read, by name. */
const onFirstUse = {
  validateMetricName: () => require('prom-client/lib/validation').validateMetricName,
  Summary: () => require('prom-client/lib/summary'),
  Pushgateway: () => require('prom-client/lib/pushgateway'),
  linearBuckets: () => require('prom-client/lib/bucketGenerators').linearBuckets,
  exponentialBuckets: () => require('prom-client/lib/bucketGenerators').exponentialBuckets,
  aggregators: () => require('prom-client/lib/metricAggregators').aggregators,
  AggregatorRegistry: () => require('prom-client/lib/cluster'),
};
for (const [name, load] of Object.entries(onFirstUse)) {
  Object.defineProperty(exports, name, { configurable: false, enumerable: true, get: load });
}
