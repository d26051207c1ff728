/**
 * The log destination (src/observability/log-file.ts): lines gathered in one buffer and written when
 * it is nearly full or after the flush interval (hand-moved timers), whole and in order, multi-byte
 * text and lines bigger than the buffer included; a failing disk is reported, never thrown.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { LogFile } from '../../src/observability/log-file.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { tempFolder } from '../helpers/temp-folder.js';

describe('LogFile', () => {
  const folder = tempFolder('herd-log-file-');

  test('creates its folder, and writes buffered lines after the flush interval', () => {
    const timers = new ManualTimers();
    const file = path.join(folder.dir, 'a', 'b', 'Alford.log');
    const log = new LogFile(file, { timers, flushIntervalMs: 100 });
    assert.ok(existsSync(file));
    log.write('one\n');
    log.write('two\n');
    assert.equal(readFileSync(file, 'utf8'), '', 'still buffered');
    assert.equal(log.pendingBytes, 8);
    timers.advance(99);
    assert.equal(readFileSync(file, 'utf8'), '');
    timers.advance(1);
    assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n');
    assert.equal(timers.pending, 0, 'no timer while nothing is buffered');
    log.close();
  });

  test('a line an interval after the last write goes out at the end of its turn, with no timer; the next ones wait for the interval', () => {
    const timers = new ManualTimers();
    const turnEnds: (() => void)[] = [];
    const file = path.join(folder.dir, 'turn.log');
    const log = new LogFile(file, { timers, flushIntervalMs: 100, afterTurn: (callback) => turnEnds.push(callback) });
    timers.advance(100);
    log.write('quiet\n');
    log.write('same turn\n');
    assert.equal(timers.pending, 0, 'no timer');
    assert.equal(turnEnds.length, 1, 'one write at the end of the turn');
    assert.equal(readFileSync(file, 'utf8'), '');
    turnEnds.shift()?.();
    assert.equal(readFileSync(file, 'utf8'), 'quiet\nsame turn\n');
    timers.advance(40);
    log.write('soon after\n');
    assert.equal(turnEnds.length, 0);
    assert.equal(timers.pending, 1, 'within the interval: a timer for its end');
    timers.advance(59);
    assert.equal(readFileSync(file, 'utf8'), 'quiet\nsame turn\n');
    timers.advance(1);
    assert.equal(readFileSync(file, 'utf8'), 'quiet\nsame turn\nsoon after\n', '100 ms after the last write');
    log.close();
  });

  test('a nearly full buffer is written at once, in order, with multi-byte text intact', () => {
    const timers = new ManualTimers();
    const file = path.join(folder.dir, 'full.log');
    const log = new LogFile(file, { timers, bufferBytes: 1024 });
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} é中𝄞\n`);
    for (const line of lines) log.write(line);
    assert.ok(readFileSync(file, 'utf8').length > 0, 'written before any timer fired');
    log.flushSync();
    assert.equal(readFileSync(file, 'utf8'), lines.join(''));
    assert.equal(log.bytesWritten, Buffer.byteLength(lines.join('')));
    log.close();
  });

  test('a line bigger than the buffer is written whole, after what was buffered before it', () => {
    const file = path.join(folder.dir, 'big.log');
    const log = new LogFile(file, { timers: new ManualTimers(), bufferBytes: 256 });
    log.write('before\n');
    const big = `${'x'.repeat(5000)}\n`;
    log.write(big);
    log.write('after\n');
    log.close();
    assert.equal(readFileSync(file, 'utf8'), `before\n${big}after\n`);
  });

  test('writeBinary copies bytes as they are, in order with the text lines around them', () => {
    const file = path.join(folder.dir, 'binary.log');
    const log = new LogFile(file);
    log.write('é\n');
    log.writeBinary('caf\xc3\xa9 \xfe\n');
    log.write('end\n');
    log.close();
    assert.deepEqual(
      readFileSync(file),
      Buffer.concat([
        Buffer.from('é\n'),
        Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xfe, 0x0a]),
        Buffer.from('end\n'),
      ]),
    );
  });

  test('carries pino lines unchanged', () => {
    const file = path.join(folder.dir, 'pino.log');
    const destination = new LogFile(file, { timers: new ManualTimers() });
    const logger = pino({ base: { server: 'Alford' } }, destination);
    logger.info({ event: 'command', line: 'IAMAT a +1+1 1' }, 'IAMAT');
    destination.flushSync();
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.equal(entry.event, 'command');
    assert.equal(entry.line, 'IAMAT a +1+1 1');
    assert.equal(entry.server, 'Alford');
    destination.close();
  });

  test('a write that fails (a full disk) is reported and counted, and does not throw', () => {
    const errors: string[] = [];
    const log = new LogFile('/dev/full', {
      timers: new ManualTimers(),
      onError: (error) => errors.push(error.message),
    });
    log.write('lost\n');
    log.flushSync();
    assert.equal(log.bytesLost, 5);
    assert.match(errors[0] ?? '', /ENOSPC/);
    log.close();
    assert.equal(log.write('after close\n'), false);
  });

  test('a reopen that cannot open the file reports it and keeps writing to the old one', () => {
    const timers = new ManualTimers();
    const errors: string[] = [];
    const rotated = path.join(folder.dir, 'rotated');
    const file = path.join(rotated, 'Alford.log');
    const log = new LogFile(file, { timers, flushIntervalMs: 100, onError: (error) => errors.push(error.message) });
    log.write('before\n');
    // The folder goes away (moved): the file cannot be opened again by its name.
    const moved = path.join(folder.dir, 'rotated-away');
    renameSync(rotated, moved);
    log.reopen();
    assert.equal(errors.length, 1);
    assert.match(errors[0] as string, /ENOENT/);
    log.write('after\n');
    log.close();
    assert.equal(readFileSync(path.join(moved, 'Alford.log'), 'utf8'), 'before\nafter\n');
  });
});
