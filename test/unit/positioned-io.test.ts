/**
 * Whole reads and buffered writes at a file offset (src/places/import/positioned-io.ts): what a
 * PositionedWriter writes through a buffer smaller than its input reads back whole, at its offset,
 * and a read past the file's end is a RangeError rather than a loop that never ends.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { PositionedWriter, readFully } from '../../src/places/import/positioned-io.js';
import { tempFolder } from '../helpers/temp-folder.js';

describe('positioned I/O of the place import', () => {
  const folder = tempFolder('herd-positioned-io-');

  test('numbers and bytes written past a small buffer read back whole at their offset', () => {
    const fd = openSync(path.join(folder.dir, 'region'), 'w+');
    try {
      const writer = new PositionedWriter(fd, 100, 16);
      const large = Buffer.from('x'.repeat(40));
      writer.u32(0xdeadbeef);
      writer.f64(-118.445127);
      writer.bytes(Buffer.from('abcdefghij'), 2, 6);
      writer.bytes(large, 0, large.length);
      assert.equal(writer.end, 100 + 4 + 8 + 6 + 40);
      writer.flush();
      const back = Buffer.alloc(writer.end - 100);
      readFully(fd, back, 0, back.length, 100);
      assert.equal(back.readUInt32LE(0), 0xdeadbeef);
      assert.equal(back.readDoubleLE(4), -118.445127);
      assert.equal(back.toString('latin1', 12, 18), 'cdefgh');
      assert.equal(back.toString('latin1', 18), large.toString('latin1'));
    } finally {
      closeSync(fd);
    }
  });

  test('a read past the end of the file is a RangeError naming how short it is', { timeout: 10_000 }, () => {
    const fd = openSync(path.join(folder.dir, 'short'), 'w+');
    try {
      const writer = new PositionedWriter(fd, 0);
      writer.bytes(Buffer.from('0123456789'), 0, 10);
      writer.flush();
      assert.throws(() => readFully(fd, Buffer.alloc(16), 0, 16, 0), {
        name: 'RangeError',
        message: 'file ends 6 bytes short of 16',
      });
    } finally {
      closeSync(fd);
    }
  });
});
