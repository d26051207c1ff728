/** `herd --version` and `herd version`: the package's version and Node's. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package.json at the package root (two folders up from dist/cli/ or src/cli/). */
const PACKAGE_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');

/** The line `herd --version` prints: `herd 0.1.0 (Node.js v20.20.2)`. */
export function versionLine(): string {
  const { version } = JSON.parse(readFileSync(PACKAGE_FILE, 'utf8')) as { version: string };
  return `herd ${version} (Node.js ${process.version})`;
}
