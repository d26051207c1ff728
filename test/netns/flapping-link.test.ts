/**
 * Test bed scenario 3 (issue 12): the link between Alford and Hamilton flaps (cut both ways for 2 s,
 * healed for 2 s, for 30 s) while IAMATs flow to every server. No acknowledged update is lost, the
 * servers' memory and link queues stay bounded, and each side's log shows each state transition
 * once: one chain of `link-status` events for the link it dials, every one from the state the
 * previous one went to, as many times `up` as `/status` counts connects; one such chain, from
 * `hello` on, for each connection the neighbour dialled; and one `link-timeout` per failure-detector
 * close.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { LogEntry } from '../helpers/capture-log.js';
import { waitUntil } from '../helpers/herd-process.js';
import type { BedHerd } from './bed-herd.js';
import { HOSTS, MEMORY_STORE, NETNS_SKIP, Traffic, converge, report, withBedHerd } from './scenario-kit.js';

const A = 'Alford';
const B = 'Hamilton';
const PERIOD_MS = 2000;
const FLAP_FOR_MS = 30_000;
/** Short detector values, so that each 2 s cut is noticed (a 5 s dead line would never fire). */
const PEER = { heartbeatIntervalMs: 200, deadAfterMs: 1000, maxQueuedUpdates: 1000 };
/** Growth of a server's resident memory over the flapping that counts as bounded, bytes. */
const MAX_RSS_GROWTH_BYTES = 64 * 1024 * 1024;

async function rssBytes(herd: BedHerd, name: string): Promise<number> {
  const status = await readFile(`/proc/${herd.servers.get(name)?.pid ?? 0}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** Checks one chain of `link-status` events (one link's, in log order); returns its transitions as text. */
function checkChain(chain: readonly LogEntry[], who: string, first?: string): string[] {
  let previous = first;
  for (const entry of chain) {
    assert.notEqual(entry.from, entry.to, `${who}: a transition to the same state: ${JSON.stringify(entry)}`);
    if (previous !== undefined)
      assert.equal(entry.from, previous, `${who}: a transition logged twice or missed: ${JSON.stringify(entry)}`);
    previous = entry.to as string;
  }
  return chain.map((entry) => `${entry.from as string}->${entry.to as string}`);
}

describe('test bed: a flapping link under load', { skip: NETNS_SKIP, timeout: 120_000 }, () => {
  test('no update lost, memory bounded, each transition logged once', async (t) => {
    await withBedHerd({ peer: PEER, store: MEMORY_STORE }, async (herd, bed) => {
      await waitUntil(
        async () => (await herd.status(A)).links.every((row) => row.status === 'up' && row.inbound),
        15_000,
        `${A}'s links up`,
      );
      const rssBefore = new Map<string, number>();
      for (const name of [A, B]) rssBefore.set(name, await rssBytes(herd, name));
      const traffic = new Traffic(herd, { prefix: 'flap', everyMs: 20, targets: () => HOSTS });
      let maxQueued = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          for (const name of [A, B]) {
            for (const row of (await herd.status(name)).links) maxQueued = Math.max(maxQueued, row.queued);
          }
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      let flaps: number;
      try {
        flaps = await bed.flap(A, B, { periodMs: PERIOD_MS, durationMs: FLAP_FOR_MS });
      } finally {
        await traffic.stop();
        sampling = false;
        await sampler;
      }
      const expected = new Map(traffic.acked.map((acked) => [acked.clientId, acked.atLine] as const));
      const ms = await converge(herd, expected, 15_000, 'every acknowledged update on every host');
      await waitUntil(
        async () => (await herd.status(A)).links.find((row) => row.peer === B)?.status === 'up',
        10_000,
        `${A}'s link to ${B} up again`,
      );
      // Every log line written so far is in the files (the log writes in batches).
      await Promise.all([herd.logsWritten(A), herd.logsWritten(B)]);
      const lines: string[] = [];
      for (const [self, peer] of [
        [A, B],
        [B, A],
      ] as const) {
        const row = (await herd.status(self)).links.find((link) => link.peer === peer);
        assert.ok(row !== undefined);
        const events = await herd.logEvents(self);
        const status = events.filter((entry) => entry.event === 'link-status' && entry.peer === peer);
        const chain = checkChain(
          status.filter((entry) => entry.link === 'out'),
          `${self} -> ${peer}`,
        );
        // Each connection the neighbour dialled has a chain of its own, from its first line on.
        const inbound = new Map<unknown, LogEntry[]>();
        for (const entry of status.filter((step) => step.link === 'in'))
          inbound.set(entry.conn, [...(inbound.get(entry.conn) ?? []), entry]);
        for (const [conn, steps] of inbound)
          checkChain(steps, `${self} <- ${peer} (connection ${String(conn)})`, 'hello');
        const inboundDeaths = status.filter(
          (entry) => entry.link === 'in' && String(entry.reason).startsWith('no data for'),
        ).length;
        assert.equal(inboundDeaths, row.inboundTimeouts, `${self}: one "-> closed" per inbound timeout`);
        const ups = chain.filter((step) => step.endsWith('->up')).length;
        assert.equal(ups, row.connects, `${self}: one "-> up" per connect`);
        const timeouts = events.filter((entry) => entry.event === 'link-timeout' && entry.peer === peer).length;
        assert.equal(timeouts, row.timeouts + row.inboundTimeouts, `${self}: one link-timeout line per timeout`);
        assert.ok(row.timeouts >= flaps / 2, `${self}: the detector noticed the cuts (${row.timeouts} of ${flaps})`);
        lines.push(
          `${self} -> ${peer}: ${chain.length} transitions, ${row.connects} connects, ${row.timeouts} timeouts out, ${row.inboundTimeouts} in`,
        );
      }
      const growth: string[] = [];
      for (const name of [A, B]) {
        const after = await rssBytes(herd, name);
        const grew = after - (rssBefore.get(name) ?? 0);
        growth.push(
          `${name} RSS ${Math.round((rssBefore.get(name) ?? 0) / 1048576)} -> ${Math.round(after / 1048576)} MB`,
        );
        assert.ok(grew < MAX_RSS_GROWTH_BYTES, `${name}'s memory grew by ${grew} bytes`);
      }
      assert.ok(maxQueued <= PEER.maxQueuedUpdates, `a queue held ${maxQueued}`);
      report(
        t,
        `${flaps} flaps of ${PERIOD_MS} ms over ${FLAP_FOR_MS} ms; ${traffic.acked.length} updates acknowledged, all on every host ${ms} ms after the last heal; most queued ${maxQueued}; ${growth.join(', ')}`,
      );
      for (const line of lines) report(t, line);
      assert.deepEqual(traffic.failed, [], 'every IAMAT was acknowledged');
    });
  });
});
