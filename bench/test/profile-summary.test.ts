/**
 * The profile summary (bench/profile-summary.ts) reads the frames of a bundled script through the
 * source map beside it, so its categories, which name source files, find the bundle's code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarizeProfile } from '../profile-summary.js';
import { tempFolder } from '../../test/helpers/temp-folder.js';

describe('profile summary', () => {
  const folder = tempFolder('herd-profile-summary-');

  /** A profile of one function of `url` at line 1, column 1, sampled 3 ms, under a root. */
  function profileOf(url: string) {
    const frame = (functionName: string, at: string) => ({ functionName, url: at, lineNumber: 0, columnNumber: 0 });
    return {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2] },
        { id: 2, callFrame: frame('offer', url) },
      ],
      startTime: 0,
      endTime: 3000,
      samples: [2, 2, 2],
      timeDeltas: [1000, 1000, 1000],
    };
  }

  it('names a bundled frame by its source file and line, in its category', () => {
    const bundle = path.join(folder.dir, 'herd.js');
    writeFileSync(bundle, 'function offer(){}\n');
    // Line 1, column 1 of herd.js is line 150 of location-store.ts ("AAqJA": 149 lines down).
    const map = { version: 3, sources: ['../../src/store/location-store.ts'], names: [], mappings: 'AAqJA' };
    writeFileSync(`${bundle}.map`, JSON.stringify(map));
    const summary = summarizeProfile(profileOf(pathToFileURL(bundle).href), 'bundle');
    assert.match(summary, /100\.0% {2}store\.offer \(map, digest\)/);
    assert.match(summary, /100\.0% {2}offer location-store\.ts:150/);
  });

  it('names a frame with no map beside its script by the script', () => {
    const script = path.join(folder.dir, 'plain.js');
    writeFileSync(script, 'function offer(){}\n');
    const summary = summarizeProfile(profileOf(pathToFileURL(script).href), 'plain');
    assert.match(summary, /100\.0% {2}other/);
    assert.match(summary, /offer plain\.js:1/);
  });
});
