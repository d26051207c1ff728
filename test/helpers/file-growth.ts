/**
 * A sign that a process has begun to write a file: the file grows past its size now. Tests use it
 * on a server's log file to learn that a restarted server has started (it logs before it listens),
 * without polling its port the whole time.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';

/** The size of `file` in bytes, 0 when it does not exist. */
function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Watches `file` (inotify on Linux) from now on.
 *
 * @returns `grown`, which resolves once the file is longer than it is now, and `close()`, which
 *   stops watching (`grown` then stays pending if it had not resolved). `grown` never rejects: a file
 *   that cannot be watched leaves it pending.
 */
export function whenFileGrows(file: string): { readonly grown: Promise<void>; close(): void } {
  const before = sizeOf(file);
  let watcher: FSWatcher | undefined;
  const grown = new Promise<void>((resolve) => {
    const check = (): void => {
      if (sizeOf(file) <= before) return;
      watcher?.close();
      resolve();
    };
    try {
      watcher = watch(file, check);
      watcher.on('error', () => watcher?.close());
    } catch {
      // Not watchable (gone): the caller's own deadline applies.
      return;
    }
    // A write between the size above and the watch would send no event.
    check();
  });
  return { grown, close: () => watcher?.close() };
}
