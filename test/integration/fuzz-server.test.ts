/**
 * Fuzzing a live server (issue "Hostile clients and networks"): any byte stream, split anywhere and
 * sent over a real socket, gets exactly one reply per non-blank line, never crashes the server, and
 * changes a location only through a valid, newer IAMAT. HERD_FUZZ_RUNS raises the number of runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { readAtRecord, type ParsedAtRecord } from '../../src/protocol/at-record.js';
import { fixedWallClock } from '../../src/protocol/time.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { isNewer } from '../helpers/reference-store.js';
import { formatAtBinary, iamatView } from '../helpers/protocol-text.js';
import { parseClientCommand } from '../../src/protocol/commands.js';
import { FieldOffsets } from '../../src/protocol/fields.js';
import { exchange } from '../helpers/herd-process.js';
import { FUZZ_SEED, fuzzRuns, lineStream, modelLines, needsReply, splitAt } from '../helpers/fuzz.js';
import { soloOptions } from '../helpers/one-server.js';

const NOW_NS = 1_700_000_010_500_000_000n;
const CLOCK = fixedWallClock(NOW_NS);
const MAX_FUTURE_SKEW_MS = 86_400_000;

/** Sends the chunks one write each, half-closes, and returns everything the server sent. */
function send(port: number, chunks: Buffer[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const received: Buffer[] = [];
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      socket.end();
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(received).toString('utf8')));
  });
}

/** Counts replies: an AT or `? ` line each, a WHATSAT's JSON skipped up to its empty line. */
function countReplies(output: string): number {
  const lines = output.split('\n');
  let replies = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('? ')) replies++;
    else if (line.startsWith('AT ')) {
      replies++;
      if (lines[i + 1] === '{') {
        while (i < lines.length && lines[i] !== '') i++;
      }
    }
  }
  return replies;
}

describe('fuzz: a live server', { timeout: 180_000 }, () => {
  let server: HerdServer;
  let port: number;

  before(async () => {
    server = new HerdServer(soloOptions({ name: 'Fuzz', clock: CLOCK }));
    port = (await server.listen()).client.port;
  });

  after(async () => {
    await server.close();
  });

  test('one reply per non-blank line, no crash, and only valid newer IAMATs change the table', async () => {
    await fc.assert(
      fc.asyncProperty(
        lineStream,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        async (bytes, cuts) => {
          const lines = modelLines(bytes);
          // The model of the table: what it held, plus each valid and newer IAMAT in order.
          const expected = new Map<string, ParsedAtRecord>();
          for (const line of lines) {
            const bytes = Buffer.from(line, 'latin1');
            const command = parseClientCommand(bytes, 0, bytes.length, new FieldOffsets(4));
            if (command?.kind !== 'IAMAT') continue;
            const view = iamatView(command);
            if (view.timeNs - NOW_NS > BigInt(MAX_FUTURE_SKEW_MS) * 1_000_000n || command.fields.length(1) > 256)
              continue;
            const record = readAtRecord(formatAtBinary('Fuzz', NOW_NS - view.timeNs, bytes));
            const current = expected.get(record.clientId) ?? server.store.get(record.clientId);
            if (isNewer(record, current)) expected.set(record.clientId, record);
          }
          const before = new Map([...server.store.values()].map((record) => [record.clientId, record.atLine]));
          const output = await send(port, splitAt(bytes, cuts));
          assert.equal(countReplies(output), lines.filter(needsReply).length, JSON.stringify({ lines, output }));
          for (const record of server.store.values()) {
            const want = expected.get(record.clientId)?.atLine ?? before.get(record.clientId);
            assert.equal(record.atLine, want, `table entry of ${JSON.stringify(record.clientId)}`);
          }
        },
      ),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(2000) },
    );
    // Still serving.
    assert.match(await exchange(port, 'IAMAT alive +1+1 1700000000\n'), /^AT Fuzz /);
  });
});
