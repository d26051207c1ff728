/**
 * The rows of a durable-store commit as the server's thread hands them to the writer thread
 * (src/store/sqlite-table.ts `packRows`/`unpackRows`): one transferred buffer, read back as exactly
 * the binary strings packed, whatever bytes a client id holds (docs/protocol.md#iamat: ids are bytes).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import fc from 'fast-check';
import { binaryOf, binaryOfText } from '../../src/protocol/bytes.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/protocol/line-splitter.js';
import { packRows, unpackRows } from '../../src/store/sqlite-table.js';

const FC = { seed: 22, numRuns: 300 } as const;

function atLineOf(clientId: string, time = '1621464827.959498503'): string {
  return `AT Alford +0.263873386 ${clientId} +34.068930-118.445127 ${time}`;
}

/** A commit's rows (client id and AT line alternating), one per id. */
function rowsOf(clientIds: readonly string[]): string[] {
  return clientIds.flatMap((id) => [id, atLineOf(id)]);
}

/** Sends `packed` through a real message port in the transfer list and resolves with what arrives. */
async function transfer(packed: ArrayBuffer): Promise<ArrayBuffer> {
  const { port1, port2 }: { port1: MessagePort; port2: MessagePort } = new MessageChannel();
  try {
    const arrived = new Promise<ArrayBuffer>((resolve) => port2.once('message', resolve));
    port1.postMessage(packed, [packed]);
    return await arrived;
  } finally {
    port1.close();
    port2.close();
  }
}

describe('packRows / unpackRows', () => {
  test('round-trip: client id and AT line alternating, in order', () => {
    const rows = rowsOf(['kiwi.cs.ucla.edu', 'a', 'x'.repeat(13)]);
    assert.deepEqual(unpackRows(packRows(rows)), rows);
  });

  test('ids that are not UTF-8 come back byte for byte, and two such ids stay two', () => {
    // The two ids of docs/protocol.md's invalid-UTF-8 case, a valid multi-byte id, and every byte
    // value a non-white-space field may hold.
    const every = binaryOf(Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b > 0x20)));
    const ids = ['\xfe', '\xff', binaryOfText('café-東京'), every, `\xc3\x28${'\x80'.repeat(20)}`];
    const rows = rowsOf(ids);
    const back = unpackRows(packRows(rows));
    assert.deepEqual(back, rows);
    assert.equal(back[0], '\xfe');
    assert.equal(back[2], '\xff');
    for (const value of back)
      assert.ok(
        [...value].every((c) => c.charCodeAt(0) <= 0xff),
        'binary strings only',
      );
  });

  test('the largest fields: an id as long as a line may be, and its AT line', () => {
    const longest = 'i'.repeat(DEFAULT_MAX_LINE_BYTES);
    const rows = rowsOf([longest, '\xff'.repeat(DEFAULT_MAX_LINE_BYTES), 'short']);
    const packed = packRows(rows);
    const back = unpackRows(packed);
    assert.deepEqual(back, rows);
    assert.equal(back[0]?.length, DEFAULT_MAX_LINE_BYTES);
    assert.equal(back[1], atLineOf(longest));
  });

  test('the buffer is its own (not a slice of the shared pool) and survives a transfer', async () => {
    const rows = rowsOf(['a', 'b']);
    const packed = packRows(rows);
    assert.equal(packed.byteLength, 2 * 2 + 2 + 2 * atLineOf('a').length);
    const arrived = await transfer(packed);
    assert.equal(packed.byteLength, 0, 'detached on the sending side');
    assert.deepEqual(unpackRows(arrived), rows);
  });

  test('property: any binary ids round-trip exactly', () => {
    const id = fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((bytes) => binaryOf(Buffer.from(bytes.map((b) => (b <= 0x20 ? b + 0x21 : b)))));
    fc.assert(
      fc.property(fc.uniqueArray(id, { minLength: 1, maxLength: 40 }), (ids) => {
        const rows = rowsOf(ids);
        assert.deepEqual(unpackRows(packRows(rows)), rows);
      }),
      FC,
    );
  });
});
