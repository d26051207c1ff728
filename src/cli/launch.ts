/**
 * The `herd` executable (`dist/bundle/main.js`, package.json `bin`): runs the bundled command line
 * (`dist/bundle/herd.js`, built from ./main.ts) with its code cache (./code-cache.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from './code-cache.js';

const program = path.join(path.dirname(fileURLToPath(import.meta.url)), 'herd.js');
runWithCodeCache(program, `${program}.cache`);
