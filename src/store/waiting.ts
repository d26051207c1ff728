/** The promise that every caller of `SqliteLocationLog.whenCommitted` (./sqlite-log.ts) for one commit waits on. */
export interface Waiting {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** A new {@link Waiting}, neither resolved nor rejected. */
export function newWaiting(): Waiting {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
