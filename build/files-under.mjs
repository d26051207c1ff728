/**
 * Lists the files of a folder, for the build scripts that walk the checkout (./test-build.mjs,
 * ./build-stamp.mjs). Plain JavaScript (.mjs) so that it needs no compiler.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * The files and symbolic links under `dir`, at any depth, as paths relative to `root`, sorted; none
 * when `dir` does not exist.
 *
 * @param {string} root
 * @param {string} dir - relative to `root`
 * @returns {string[]}
 */
export function filesUnder(root, dir) {
  if (!fs.existsSync(path.join(root, dir))) return [];
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}
