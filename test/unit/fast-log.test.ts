/**
 * Pre-serialised log lines (src/observability/fast-log.ts) are byte for byte the lines pino writes
 * for the same fields: level, time, the logger's bindings (child loggers included), the fields, msg.
 */
import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import {
  FastLog,
  IN_PLACE_MAX_BYTES,
  bytesOfJson,
  fastLogOf,
  jsonBinary,
  jsonText,
} from '../../src/observability/fast-log.js';
import { LogFile } from '../../src/observability/log-file.js';
import { binaryOfText } from '../../src/protocol/bytes.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { tempFolder } from '../helpers/temp-folder.js';

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

  test('writes nothing when the level is above info, and is shared per logger', () => {
    const { log, lines } = logger('warn');
    const fast = fastLogOf(log);
    assert.equal(fast.enabled, false);
    fast.info(',"event":"command"', '"IAMAT"');
    assert.deepEqual(lines, []);
    assert.equal(fastLogOf(log), fast);
    assert.equal(fastLogOf(pino({ level: 'silent' })).enabled, false);
  });

  describe('lines written in place into a log file', () => {
    const folder = tempFolder('herd-fast-log-');
    const base = { base: { server: 'Alford', pid: 7 }, timestamp: () => ',"time":1700000000123' };

    /** A pino logger on a LogFile, with hand-moved timers; `text()` closes the file and reads it. */
    function fileLogger(name: string) {
      const file = path.join(folder.dir, name);
      const destination = new LogFile(file, { timers: new ManualTimers() });
      return {
        log: pino(base, destination),
        destination,
        text: () => {
          destination.close();
          return readFileSync(file, 'latin1');
        },
      };
    }

    test('are the lines info() and pino write for the same fields, the buffer written between them in order', () => {
      const { log, destination, text } = fileLogger('in-place.log');
      const fast = fastLogOf(log);
      const line = Buffer.from('..IAMAT kiwi +34.068930-118.445127 1700000000.5..', 'latin1');
      const reply = 'AT Alford +0.5 kiwi +34.068930-118.445127 1700000000.5\nsecond line\n';
      const write = (): boolean => {
        assert.ok(fast.begin());
        fast.raw(bytesOfJson(',"event":"command","conn":3,"line":'));
        fast.jsonOfBytes(line, 2, line.length - 2);
        fast.text(',"reply":');
        fast.jsonOf(reply, reply.indexOf('\n'));
        fast.text(',"outcome":"ok"');
        return fast.end('"IAMAT"');
      };
      const fields = {
        event: 'command',
        conn: 3,
        line: 'IAMAT kiwi +34.068930-118.445127 1700000000.5',
        reply: 'AT Alford +0.5 kiwi +34.068930-118.445127 1700000000.5',
        outcome: 'ok',
      };
      log.info(fields, 'IAMAT');
      assert.ok(write());
      // Enough lines to fill the buffer several times: each that does not fit sends the buffer first.
      for (let i = 0; i < 1000; i++) assert.ok(write());
      assert.ok(destination.bytesWritten > 0);
      log.info(fields, 'IAMAT');
      const lines = text().split('\n');
      assert.equal(lines.pop(), '');
      assert.equal(lines.length, 1003);
      for (const written of lines) assert.equal(written, lines[0]);
    });

    test('a piece that is not plain ASCII, or too long, drops the line: end() says so and nothing is written', () => {
      const { log, destination, text } = fileLogger('dropped.log');
      const fast = fastLogOf(log);
      const pieces: ((log: FastLog) => void)[] = [
        (log) => log.jsonOf('caf\xc3\xa9'),
        (log) => log.jsonOf('say "hi"'),
        (log) => log.jsonOfBytes(Buffer.from('back\\slash'), 0, 10),
        (log) => log.jsonOfBytes(Buffer.from('tab\there'), 0, 8),
        (log) => log.text('x'.repeat(IN_PLACE_MAX_BYTES)),
      ];
      for (const piece of pieces) {
        assert.ok(fast.begin());
        fast.text(',"event":"command","line":');
        piece(fast);
        assert.equal(fast.end('"INVALID"'), false);
      }
      assert.equal(destination.pendingBytes, 0);
      fast.info(`,"event":"command","line":${jsonBinary('caf\xc3\xa9')}`, '"INVALID"');
      assert.equal(
        text(),
        '{"level":30,"time":1700000000123,"server":"Alford","pid":7,"event":"command","line":"caf\xc3\xa9","msg":"INVALID"}\n',
      );
    });

    test('begin() is false when the destination is not a log file, the level is above info, or the file is closed', () => {
      assert.equal(fastLogOf(logger().log).begin(), false);
      const quiet = fileLogger('quiet.log');
      quiet.log.level = 'warn';
      assert.equal(fastLogOf(quiet.log).begin(), false);
      const closed = fileLogger('closed.log');
      assert.equal(closed.text(), '');
      assert.equal(fastLogOf(closed.log).begin(), false);
    });
  });
});
