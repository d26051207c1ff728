/**
 * When a server loads its admin parts (src/cli/serve-admin.ts `deferredStart`): at least
 * ADMIN_LOAD_DELAY_MS after listening; under a supervisor ADMIN_AFTER_HERD_LISTENS_MS after the whole
 * herd listens, or after HERD_LISTENS_WAIT_MS when it never does. At a herd's first start its links are dialled
 * (`linksHeldUntil`) once the herd listens, or after HERD_LISTENS_WAIT_MS. Node's mock timers stand
 * in for the clock.
 */
import { afterEach, beforeEach, describe, test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import {
  ADMIN_AFTER_HERD_LISTENS_MS,
  ADMIN_LOAD_DELAY_MS,
  HERD_LISTENS_WAIT_MS,
  deferredStart,
  linksHeldUntil,
} from '../../src/cli/serve-admin.js';

/** Whether `promise` has settled once the promises ready now have run (a real turn of the loop). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await turn();
  return done;
}

/** Asserts that `promise` is still pending `ms` - 1 ms of mock time from now, and settled at `ms`. */
async function assertSettlesAfter(promise: Promise<unknown>, ms: number): Promise<void> {
  mock.timers.tick(ms - 1);
  assert.equal(await settled(promise), false, `pending at ${ms - 1} ms`);
  mock.timers.tick(1);
  assert.equal(await settled(promise), true, `settled at ${ms} ms`);
}

// The hooks are this suite's, not the process's: under `npm test` other files' tests run in the same
// process (build/test-groups.mjs), and must keep the real setTimeout.
describe('when a server loads its admin parts and dials its links', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('alone (no supervisor): after ADMIN_LOAD_DELAY_MS, not before', async () => {
    await assertSettlesAfter(deferredStart(undefined), ADMIN_LOAD_DELAY_MS);
  });

  test('under a supervisor: ADMIN_AFTER_HERD_LISTENS_MS after the herd listens, when its links come up', async () => {
    let herdListens!: () => void;
    const start = deferredStart(new Promise<void>((resolve) => (herdListens = resolve)));
    mock.timers.tick(ADMIN_LOAD_DELAY_MS * 4);
    assert.equal(await settled(start), false, 'waits for the herd');
    herdListens();
    await turn();
    await assertSettlesAfter(start, ADMIN_AFTER_HERD_LISTENS_MS);

    let early!: () => void;
    const soon = deferredStart(new Promise<void>((resolve) => (early = resolve)));
    early();
    await turn();
    await assertSettlesAfter(soon, Math.max(ADMIN_LOAD_DELAY_MS, ADMIN_AFTER_HERD_LISTENS_MS));
  });

  test('under a supervisor whose herd listens late: after HERD_LISTENS_WAIT_MS at the latest', async () => {
    let herdListens!: () => void;
    const start = deferredStart(new Promise<void>((resolve) => (herdListens = resolve)));
    mock.timers.tick(HERD_LISTENS_WAIT_MS - 1);
    herdListens();
    await turn();
    assert.equal(await settled(start), false);
    mock.timers.tick(1);
    assert.equal(await settled(start), true, 'the bound holds even with the links just dialled');
  });

  test('under a supervisor whose herd never listens: after HERD_LISTENS_WAIT_MS at the latest', async () => {
    await assertSettlesAfter(deferredStart(new Promise<void>(() => undefined)), HERD_LISTENS_WAIT_MS);
  });

  test('links at a first start: dialled once the herd listens, or after HERD_LISTENS_WAIT_MS at the latest', async () => {
    let herdListens!: () => void;
    const held = linksHeldUntil(new Promise<void>((resolve) => (herdListens = resolve)));
    assert.equal(await settled(held), false, 'held until the herd listens');
    herdListens();
    assert.equal(await settled(held), true, 'no delay of its own');

    await assertSettlesAfter(linksHeldUntil(new Promise<void>(() => undefined)), HERD_LISTENS_WAIT_MS);
    assert.equal(await settled(linksHeldUntil(undefined)), true, 'no supervisor to wait for');
  });
});
