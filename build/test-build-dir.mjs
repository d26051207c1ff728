/**
 * Where build/test-build.mjs compiles the tests for `npm test` and build/run-tests.mjs finds them:
 * `<checkout>/.test-build` (the name is in .gitignore, .prettierignore and eslint.config.js). Plain
 * JavaScript (.mjs) so that it needs no compiler.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The compiled tree. */
export const TEST_BUILD_DIR = path.join(ROOT, '.test-build');
