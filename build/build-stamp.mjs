/**
 * Skips `npm run build` when dist/ was built from exactly the files it would be built from now, so
 * that `npm test` right after `npm ci` (whose `prepare` step builds) does not build a second time:
 * about 12 s of CPU on 2 cores that the type check and the linters, running beside it, can use
 * (docs/benchmarks.md "The suite (2026-12-03)").
 *
 *   node build/build-stamp.mjs clear            # the first step of `npm run build`
 *   node build/build-stamp.mjs write            # its last step
 *   node build/build-stamp.mjs build-if-changed # `npm test`: runs `npm run build` unless the stamp matches
 *
 * The stamp, `dist/.build-inputs`, is a SHA-256 over the Node version and the path and bytes of every
 * input of the build: {@link INPUT_DIRS} and {@link INPUT_FILES}. Dependencies count through
 * package-lock.json. Any change, or no stamp (a build clears it first, and one that fails half-way
 * writes none), builds.
 *
 * Exits with the build's exit code, or 1 with one line on stderr when the stamp cannot be written.
 * Plain JavaScript (.mjs) so that it needs no compiler.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { filesUnder } from './files-under.mjs';

/** The checkout's root. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Folders whose files the build reads (sources, build scripts, the dashboard page, default herds). */
export const INPUT_DIRS = ['src', 'build', 'web', 'herds'];
/** Single files the build reads. */
export const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
/** Where the stamp is written: inside dist/, so that deleting dist/ deletes it too. */
export const STAMP_FILE = path.join(ROOT, 'dist', '.build-inputs');

/**
 * The digest of the build's inputs now: their contents, not their times.
 *
 * @param {string} [root] - the checkout (default: this one)
 * @returns {string} hex SHA-256
 */
export function inputsDigest(root = ROOT) {
  const hash = createHash('sha256').update(`node ${process.version}\0`);
  for (const file of [...INPUT_DIRS.flatMap((dir) => filesUnder(root, dir)), ...INPUT_FILES]) {
    const full = path.join(root, file);
    hash.update(`${file}\0`);
    if (fs.existsSync(full)) hash.update(fs.readFileSync(full));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** @returns {boolean} whether dist/ was built from the inputs as they are now */
export function upToDate() {
  try {
    return fs.readFileSync(STAMP_FILE, 'utf8').trim() === inputsDigest();
  } catch {
    return false;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2];
  if (command === 'clear') {
    fs.rmSync(STAMP_FILE, { force: true });
  } else if (command === 'write') {
    try {
      fs.writeFileSync(STAMP_FILE, `${inputsDigest()}\n`);
    } catch (error) {
      console.error(
        `build-stamp: cannot write ${STAMP_FILE} (${error.code ?? error.message}); check that dist/ is writable`,
      );
      process.exit(1);
    }
  } else if (command === 'build-if-changed') {
    if (upToDate()) {
      console.log('build: dist/ was built from these sources (dist/.build-inputs matches): not built again');
    } else {
      const npm = process.env.npm_execpath;
      const run = npm ? [process.execPath, [npm, 'run', 'build']] : ['npm', ['run', 'build']];
      const result = spawnSync(run[0], run[1], { cwd: ROOT, stdio: 'inherit' });
      process.exit(result.status ?? 1);
    }
  } else {
    console.error('build-stamp: usage: node build/build-stamp.mjs clear | write | build-if-changed');
    process.exit(2);
  }
}
