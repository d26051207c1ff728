/** A temporary folder for the tests of one `describe()`. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

/**
 * For the calling `describe()`: a fresh folder under the system's temporary folder, named
 * `<prefix>XXXXXX`, made before its tests (`dir`) and removed, with all it holds, after them.
 *
 * @throws Error when `dir` is read before the tests run (at describe time).
 */
export function tempFolder(prefix: string): { readonly dir: string } {
  let made: string | undefined;
  before(async () => {
    made = await mkdtemp(path.join(os.tmpdir(), prefix));
  });
  after(async () => {
    if (made !== undefined) await rm(made, { recursive: true, force: true });
  });
  return {
    get dir(): string {
      if (made === undefined) throw new Error('tempFolder().dir is made before the tests, not at describe time');
      return made;
    },
  };
}
