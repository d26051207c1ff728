/**
 * The package's root folder (where `package.json`, `herds/`, `web/` and `dist/` are), found from this
 * module's own location: two folders down in the sources (`src/core/`), in the compiled tree
 * (`dist/core/`) and in the bundle (`dist/bundle/`) alike.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
