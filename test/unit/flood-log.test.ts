/**
 * The flood log events (src/peers/flood-log.ts): written in place into a log file, or as strings to
 * any other destination, they are the same events, plain ASCII or not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { fastLogOf } from '../../src/observability/fast-log.js';
import { LogFile } from '../../src/observability/log-file.js';
import { FloodLog } from '../../src/peers/flood-log.js';
import { capturingLogger, type LogEntry } from '../helpers/capture-log.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { tempFolder } from '../helpers/temp-folder.js';

describe('FloodLog', () => {
  const folder = tempFolder('herd-flood-log-');

  test('into a log file (in place) and into a stream (as strings), the events are the same', () => {
    const floods: [boolean, { clientId: string; atLine: string }][] = [
      [true, { clientId: 'kiwi', atLine: 'AT Ball +0.5 kiwi +34.068930-118.445127 1700000000.5' }],
      [false, { clientId: 'kiwi', atLine: 'AT Ball +0.5 kiwi +34.068930-118.445127 1700000000.5' }],
      // A binary string of UTF-8 bytes: logged as its text, through the string path.
      [true, { clientId: 'k\xc3\xa9a', atLine: 'AT Ball +0.5 k\xc3\xa9a +1+1 1700000000' }],
    ];
    const captured = capturingLogger();
    const file = path.join(folder.dir, 'Alford.log');
    const destination = new LogFile(file, { timers: new ManualTimers() });
    for (const logger of [captured.logger, pino({}, destination)]) {
      const log = new FloodLog(fastLogOf(logger), 'Ba"ll');
      for (const [stored, message] of floods) log.write(stored, message);
    }
    destination.close();
    const withoutTime = ({ time: _time, ...entry }: LogEntry): LogEntry => entry;
    const expected = captured.events().map(withoutTime);
    assert.deepEqual(
      expected.map(({ event, peer, clientId, msg }) => [event, peer, clientId, msg]),
      [
        ['flood-stored', 'Ba"ll', 'kiwi', 'flood stored'],
        ['flood-stale', 'Ba"ll', 'kiwi', 'flood ignored as stale'],
        ['flood-stored', 'Ba"ll', 'k\u00e9a', 'flood stored'],
      ],
    );
    const written = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      written.map((line) => withoutTime(JSON.parse(line) as LogEntry)),
      expected,
    );
  });
});
