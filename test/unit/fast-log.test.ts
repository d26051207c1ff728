/**
 * Pre-serialised log lines (src/observability/fast-log.ts) are byte for byte the lines pino writes
 * for the same fields: level, time, the logger's bindings (child loggers included), the fields, msg.
 */
import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FastLog, fastLogOf, jsonBinary, jsonText } from '../../src/observability/fast-log.js';
import { LogFile } from '../../src/observability/log-file.js';
import { binaryOfText } from '../../src/protocol/bytes.js';

function logger(level = 'info') {
  const lines: string[] = [];
  const log = pino(
    { level, base: { server: 'Alford', pid: 7 }, timestamp: () => ',"time":1700000000123' },
    { write: (text: string) => void lines.push(text) },
  );
  return { log, lines };
}

describe('FastLog', () => {
  test('writes what pino writes for the same command event, awkward strings included', () => {
    const { log, lines } = logger();
    const line = 'IAMAT "quoted" \\ back\tslash é中𝄞 \u0001 </script>';
    const reply = `? ${line}`;
    log.info({ event: 'command', conn: 3, line, reply, outcome: 'invalid', reason: 'unknown command' }, 'INVALID');
    fastLogOf(log).info(
      `,"event":"command","conn":3,"line":${jsonBinary(binaryOfText(line))},"reply":${jsonBinary(binaryOfText(reply))},"outcome":"invalid","reason":${jsonText('unknown command')}`,
      '"INVALID"',
    );
    assert.equal(lines.length, 2);
    assert.equal(lines[1], lines[0]);
  });

  test('a line of bytes that are not UTF-8 is logged as U+FFFD, still one valid JSON line', () => {
    const { log, lines } = logger();
    fastLogOf(log).info(`,"event":"command","line":${jsonBinary('IAMAT \xfe +1+1 5')}`, '"INVALID"');
    const entry = JSON.parse(lines[0] ?? '') as { line: string };
    assert.equal(entry.line, 'IAMAT \ufffd +1+1 5');
  });

  test('carries a child logger bindings and nested objects as pino does', () => {
    const { log, lines } = logger();
    const child = log.child({ peer: 'Ball', link: 'out' });
    const places = { source: 'offline', status: 'OK', results: 5, ms: 0.25 };
    child.info({ event: 'flood-stale', clientId: 'kiwi', places }, 'flood ignored as stale');
    new FastLog(child).info(
      `,"event":"flood-stale","clientId":"kiwi","places":{"source":"offline","status":"OK","results":5,"ms":0.25}`,
      '"flood ignored as stale"',
    );
    assert.equal(lines[1], lines[0]);
  });

  test("with pino's default time, the prefix made once a millisecond stays pino's line as the clock moves", () => {
    mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_123 });
    try {
      const lines: string[] = [];
      const log = pino({ base: { server: 'Alford', pid: 7 } }, { write: (text: string) => void lines.push(text) });
      const fast = fastLogOf(log);
      const both = (clientId: string): void => {
        log.info({ event: 'flood-stored', clientId }, 'stored');
        fast.info(`,"event":"flood-stored","clientId":${jsonBinary(clientId)}`, '"stored"');
      };
      both('a');
      both('b');
      mock.timers.tick(1);
      both('c');
      mock.timers.tick(1_000);
      both('d');
      assert.equal(lines.length, 8);
      for (let i = 0; i < lines.length; i += 2) assert.equal(lines[i + 1], lines[i]);
      assert.deepEqual(
        lines.map((line) => (JSON.parse(line) as { time: number }).time),
        [123, 123, 123, 123, 124, 124, 1124, 1124].map((ms) => 1_700_000_000_000 + ms),
      );
    } finally {
      mock.timers.reset();
    }
  });

  test('a line written part by part from bytes is what pino writes, awkward bytes, long lines and a LogFile included', async () => {
    const text = 'IAMAT "quoted" \\ back\tslash é中𝄞 \u0001 </script>';
    const bytes = Buffer.concat([Buffer.from('xx'), Buffer.from(text, 'utf8'), Buffer.from('yy')]);
    const long = 'k'.repeat(3000);
    const reply = `AT Alford +0.1 ${text}\nsecond line\n`;
    const binaryReply = binaryOfText(reply);
    const { log, lines } = logger();
    const fast = fastLogOf(log);
    for (const value of [text, long]) {
      log.info(
        { event: 'command', conn: 3, line: value, reply: `AT Alford +0.1 ${text}`, reason: 'why "not"', peer: 'Zoë' },
        'IAMAT',
      );
      assert.equal(fast.begin(), true);
      fast.raw(',"event":"command","conn":3,"line":');
      if (value === text) fast.jsonBytes(bytes, 2, bytes.length - 2);
      else fast.jsonBinary(long);
      fast.raw(',"reply":');
      fast.jsonBinary(binaryReply, binaryReply.indexOf('\n'));
      fast.raw(',"reason":');
      fast.jsonText('why "not"');
      fast.raw(`,"peer":${jsonText('Zoë')}`);
      fast.end('"IAMAT"');
    }
    assert.equal(lines.length, 4);
    assert.equal(lines[1], lines[0]);
    assert.equal(lines[3], lines[2]);

    // Bytes that are not UTF-8 are logged as U+FFFD, the line still valid JSON.
    assert.equal(fast.begin(), true);
    fast.raw(',"line":');
    fast.jsonBytes(Buffer.from([0x41, 0xfe, 0x42]), 0, 3);
    fast.end('"INVALID"');
    assert.equal((JSON.parse(lines[4] ?? '') as { line: string }).line, 'A\ufffdB');

    // Into a log file: the same bytes as pino's own line through the file.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-fast-log-'));
    try {
      const file = new LogFile(path.join(dir, 'a.log'));
      const fileLog = pino({ base: { server: 'Alford' }, timestamp: () => ',"time":1' }, file);
      fileLog.info({ event: 'flood-stale', clientId: text }, 'stale');
      const fileFast = new FastLog(fileLog);
      assert.equal(fileFast.begin(), true);
      fileFast.raw(',"event":"flood-stale","clientId":');
      fileFast.jsonBytes(bytes, 2, bytes.length - 2);
      fileFast.end('"stale"');
      file.close();
      const written = (await readFile(path.join(dir, 'a.log'), 'utf8')).split('\n');
      assert.equal(written.length, 3);
      assert.equal(written[1], written[0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('writes nothing when the level is above info, and is shared per logger', () => {
    const { log, lines } = logger('warn');
    const fast = fastLogOf(log);
    assert.equal(fast.enabled, false);
    fast.info(',"event":"command"', '"IAMAT"');
    assert.equal(fast.begin(), false);
    assert.deepEqual(lines, []);
    assert.equal(fastLogOf(log), fast);
    assert.equal(fastLogOf(pino({ level: 'silent' })).enabled, false);
  });
});
