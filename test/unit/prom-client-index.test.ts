/**
 * build/prom-client-index.cjs, what the bundle takes for `prom-client` (build/bundle.ts): the same
 * exports as prom-client's own index, the same objects, and the Pushgateway not loaded with it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/herd-process.js';

const require = createRequire(import.meta.url);

test("the bundle's prom-client index has prom-client's exports, the same objects, and loads no Pushgateway", () => {
  const pushgateway = require.resolve('prom-client/lib/pushgateway');
  const slim = require(path.join(ROOT, 'build', 'prom-client-index.cjs')) as Record<string, unknown>;
  assert.equal(require.cache[pushgateway], undefined, 'the Pushgateway was loaded with the index');
  const full = require('prom-client') as Record<string, unknown>;
  assert.deepEqual(Object.keys(slim).sort(), Object.keys(full).sort());
  for (const key of Object.keys(full)) assert.equal(slim[key], full[key], key);
});
