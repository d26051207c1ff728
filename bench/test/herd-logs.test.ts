/**
 * A herd start's `loop-blocked` turns as the startup scenario counts them (bench/scenarios/herd-logs.ts):
 * only those of this start (at or after the spawn) and of the members' first 2 s (up to each one's
 * `startup-delay` event), with the turns a throttled line says it suppressed; a member that never
 * logs that event ends the count with an error naming its log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { herdStartBlocks } from '../scenarios/herd-logs.js';
import { BenchError } from '../bench-error.js';
import type { HerdMember } from '../bench-processes.js';

let dir = '';

/** A member whose log holds `events` (one JSON line each). */
async function memberWith(name: string, events: Record<string, unknown>[]): Promise<HerdMember> {
  const logFile = path.join(dir, `${name}.log`);
  await writeFile(logFile, events.map((event) => `${JSON.stringify(event)}\n`).join(''));
  return { name, pid: 0, logFile, peerPort: 0, host: '127.0.0.1', port: 0 };
}

describe('loop-blocked turns of a herd start', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'herd-logs-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("counts this start's, in the first 2 s, with the suppressed ones", async () => {
    const spawn = 1_000_000;
    const alford = await memberWith('Alford', [
      { time: spawn - 5000, event: 'loop-blocked', ms: 90, suppressed: 0 },
      { time: spawn - 3000, event: 'startup-delay', maxMs: 3 },
      { time: spawn + 600, event: 'loop-blocked', ms: 24.5, suppressed: 0 },
      { time: spawn + 1700, event: 'loop-blocked', ms: 31, suppressed: 2 },
      { time: spawn + 2600, event: 'startup-delay', maxMs: 4 },
      { time: spawn + 9000, event: 'loop-blocked', ms: 70, suppressed: 0 },
    ]);
    const ball = await memberWith('Ball', [{ time: spawn + 2500, event: 'startup-delay', maxMs: 2 }]);
    const blocks = await herdStartBlocks([alford, ball], spawn);
    assert.deepEqual(blocks, { count: 4, loggedMs: [24.5, 31] });
  });

  it('fails naming the log of a member with no startup-delay event of this start', async () => {
    const spawn = 1_000_000;
    // Its only startup-delay is an earlier start's: this start's is never written.
    const holiday = await memberWith('Holiday', [
      { time: spawn - 3000, event: 'startup-delay', maxMs: 3 },
      { time: spawn + 500, event: 'loop-blocked', ms: 40, suppressed: 0 },
    ]);
    await assert.rejects(
      herdStartBlocks([holiday], spawn, 50),
      (error: unknown) => error instanceof BenchError && error.message.includes(holiday.logFile),
    );
  });
});
