/**
 * Pre-serialised log lines (src/observability/fast-log.ts) are byte for byte the lines pino writes
 * for the same fields: level, time, the logger's bindings (child loggers included), the fields, msg.
 */
import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { FastLog, fastLogOf, jsonBinary, jsonText } from '../../src/observability/fast-log.js';
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

  test('writes nothing when the level is above info, and is shared per logger', () => {
    const { log, lines } = logger('warn');
    const fast = fastLogOf(log);
    assert.equal(fast.enabled, false);
    fast.info(',"event":"command"', '"IAMAT"');
    assert.deepEqual(lines, []);
    assert.equal(fastLogOf(log), fast);
    assert.equal(fastLogOf(pino({ level: 'silent' })).enabled, false);
  });
});
