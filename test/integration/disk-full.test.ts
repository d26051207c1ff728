/**
 * A real `herd serve` whose data directory is a small tmpfs that fills up (docs/operations.md "When
 * the store cannot write"): it never exits, answers WHATSAT from memory, says so on `/status` and
 * `/metrics`, and once space returns commits again without a restart, with nothing acknowledged lost.
 * With `store.sync` a valid IAMAT that cannot be made durable is answered neither `AT` nor `?`: its
 * connection is closed after the replies before it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import type { ServerStatus } from '../../src/core/status.js';
import { httpGet } from '../../src/observability/admin-client.js';
import { exchange, waitUntil } from '../helpers/herd-process.js';
import { TMPFS_SKIP, withTmpfs, type Tmpfs } from '../helpers/scratch-fs.js';
import { serveSolo, stopSolo, type Solo } from '../helpers/solo-process.js';

/** Size of the data directory: room for the store and a few dozen commits. */
const DISK_BYTES = 256 * 1024;

async function status(solo: Solo): Promise<ServerStatus> {
  return JSON.parse((await httpGet(`${solo.adminUrl ?? ''}/status`, 3000)).body) as ServerStatus;
}

async function metric(solo: Solo, series: RegExp): Promise<number> {
  const text = (await httpGet(`${solo.adminUrl ?? ''}/metrics`, 3000)).body;
  const line = text.split('\n').find((each) => series.test(each));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Runs `body` with a server whose data directory is a fresh small tmpfs; stops it and unmounts after. */
async function withFullableServer(
  store: Record<string, unknown>,
  body: (solo: Solo, disk: Tmpfs) => Promise<void>,
): Promise<void> {
  await withTmpfs(DISK_BYTES, async (disk) => {
    const solo = await serveSolo({ store, dataDir: disk.dir, admin: true });
    try {
      await body(solo, disk);
    } finally {
      await stopSolo(solo);
      await rm(solo.dir, { recursive: true, force: true });
    }
  });
}

/** SIGTERM, a restart on the same folders, and what it holds for each of `acked` (client id -> AT line). */
async function assertKeptAfterRestart(solo: Solo, disk: Tmpfs, acked: ReadonlyMap<string, string>): Promise<void> {
  solo.child.kill('SIGTERM');
  assert.equal(await solo.exited, 0);
  const again = await serveSolo({ dir: solo.dir, dataDir: disk.dir });
  try {
    const lines = [...acked.keys()].map((id) => `WHATSAT ${id} 1 1\n`).join('');
    const answers = (await exchange(again.port, lines, 30_000)).split('\n').filter((line) => line.startsWith('AT '));
    assert.deepEqual(new Set(answers), new Set(acked.values()), 'every acknowledged IAMAT survived the restart');
  } finally {
    await stopSolo(again);
  }
}

describe('a herd serve process whose disk fills up', { skip: TMPFS_SKIP, timeout: 180_000 }, () => {
  test('store.sync: an IAMAT that cannot be made durable gets neither AT nor ?; the server serves from memory and recovers when space returns', async () => {
    await withFullableServer({ sync: true }, async (solo, disk) => {
      const acked = new Map<string, string>();
      let refused: string | undefined;
      for (let i = 0; refused === undefined && i < 1000; i++) {
        const reply = await exchange(solo.port, `IAMAT fill-${i} +34.068930-118.445127 1700000000.${i}\n`);
        if (reply.startsWith('AT ')) acked.set(`fill-${i}`, reply.trimEnd());
        else refused = reply;
      }
      assert.equal(refused, '', 'the IAMAT the full disk could not keep got no reply at all');
      await waitUntil(async () => (await status(solo)).store.state === 'failing', 1000, '/status to say failing');
      const store = (await status(solo)).store;
      assert.match(store.lastError ?? '', /SQLITE_FULL/);
      assert.ok(store.pendingRows >= 1, `the refused update is still queued (${store.pendingRows})`);
      assert.ok((await metric(solo, /^herd_store_commit_failures_total\{reason="full"/)) >= 1);
      assert.ok(
        (await metric(solo, /^herd_commands_total\{command="IAMAT",outcome="store_unavailable"/)) >= 1,
        'counted as store_unavailable',
      );
      // One connection: the WHATSAT before the IAMAT is answered from memory, then the connection closes.
      const reply = await exchange(solo.port, 'WHATSAT fill-0 10 1\nIAMAT cut +1+1 1700000001\nWHATSAT fill-0 10 1\n');
      assert.equal(reply.split('\n')[0], acked.get('fill-0'));
      assert.equal(reply.match(/^AT /gm)?.length, 1, `only the first WHATSAT is answered: ${reply}`);
      assert.doesNotMatch(reply, /^\? /m);
      assert.equal(solo.child.exitCode, null, 'the server is still running');
      await disk.resize(16 * 1024 * 1024);
      const back = await waitUntil(
        async () => {
          const answer = await exchange(solo.port, 'IAMAT back +1+1 1700000002\n');
          return answer.startsWith('AT ') ? answer.trimEnd() : undefined;
        },
        10_000,
        'an IAMAT to be acknowledged again',
      );
      acked.set('back', back);
      assert.equal((await status(solo)).store.state, 'ok');
      await assertKeptAfterRestart(solo, disk, acked);
    });
  });

  test('without sync: IAMATs are acknowledged while the disk is full; their rows stay queued and are written when space returns', async () => {
    await withFullableServer({}, async (solo, disk) => {
      const acked = new Map<string, string>();
      let batch = 0;
      await waitUntil(
        async () => {
          const ids = Array.from({ length: 100 }, (_, i) => `q-${batch}-${i}`);
          batch++;
          const reply = await exchange(solo.port, ids.map((id) => `IAMAT ${id} +1+1 1700000000\n`).join(''));
          const lines = reply.trimEnd().split('\n');
          assert.equal(lines.length, ids.length);
          lines.forEach((line, i) => {
            assert.match(line, /^AT Solo /, 'every IAMAT is acknowledged');
            acked.set(ids[i] as string, line);
          });
          return (await status(solo)).store.state === 'failing';
        },
        60_000,
        'the disk to fill up',
      );
      const { store } = await status(solo);
      assert.ok(store.pendingRows >= 1, `rows wait for space (${store.pendingRows})`);
      assert.equal(await metric(solo, /^herd_store_pending_rows\{/), store.pendingRows);
      await disk.resize(16 * 1024 * 1024);
      await waitUntil(
        async () => {
          const now = (await status(solo)).store;
          return now.state === 'ok' && now.pendingRows === 0;
        },
        10_000,
        'the queued rows to be written',
      );
      const bytes = (await status(solo)).store.bytes ?? 0;
      assert.ok(bytes > 0);
      assert.equal(await metric(solo, /^herd_store_bytes\{/), bytes);
      await assertKeptAfterRestart(solo, disk, acked);
    });
  });
});
