/**
 * The table `herd status` prints (formatStatusTable): one row per server, down servers with dashes
 * and the reason below.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatusTable, type HerdStatusReport } from '../../src/cli/status.js';
import type { ServerStatus } from '../../src/core/status.js';

describe('formatStatusTable', () => {
  test('one row per server, down servers with dashes and the reason below', () => {
    const status: ServerStatus = {
      name: 'A',
      incarnation: 'i',
      uptimeMs: 1,
      clientAddress: '127.0.0.1:1',
      peerAddress: '127.0.0.1:5',
      clients: 3,
      connections: 1,
      placesSource: 'offline',
      links: [
        {
          peer: 'B',
          status: 'backoff',
          queued: 0,
          dropped: 0,
          connects: 1,
          inbound: false,
          timeouts: 0,
          inboundTimeouts: 0,
        },
      ],
      store: { state: 'failing', lastError: 'SQLITE_FULL: database or disk is full', pendingRows: 1200 },
    };
    const report: HerdStatusReport = {
      configFile: '/h.json',
      runtimeFile: undefined,
      servers: [
        {
          name: 'A',
          state: 'up',
          address: '127.0.0.1:1',
          peerAddress: '127.0.0.1:5',
          adminUrl: 'http://127.0.0.1:2',
          dashboardUrl: 'http://127.0.0.1:2/',
          pid: 1,
          external: false,
          status,
          lagP99Ms: 0.25,
          error: undefined,
        },
        {
          name: 'B',
          state: 'down',
          address: '127.0.0.1:3',
          peerAddress: '127.0.0.1:6',
          adminUrl: 'http://127.0.0.1:4',
          dashboardUrl: 'http://127.0.0.1:4/',
          pid: 2,
          external: false,
          status: undefined,
          lagP99Ms: undefined,
          error: 'ECONNREFUSED',
        },
      ],
    };
    const lines = formatStatusTable(report);
    assert.match(lines[0] ?? '', /^herd: status of \/h\.json \(addresses from the config\)$/);
    assert.deepEqual(lines[1]?.split(/\s{2,}/), [
      'SERVER',
      'STATE',
      'CLIENT PORT',
      'PEER PORT',
      'LINKS',
      'CLIENTS',
      'STORE',
      'LAG p99',
      'ADMIN',
      'DASHBOARD',
    ]);
    assert.deepEqual(lines[2]?.split(/\s{2,}/), [
      'A',
      'up',
      '127.0.0.1:1',
      '127.0.0.1:5',
      'B:backoff',
      '3',
      'failing, 1200 pending',
      '0.3 ms',
      'http://127.0.0.1:2',
      'http://127.0.0.1:2/',
    ]);
    assert.deepEqual(lines[3]?.split(/\s{2,}/), [
      'B',
      'down',
      '127.0.0.1:3',
      '127.0.0.1:6',
      '-',
      '-',
      '-',
      '-',
      'http://127.0.0.1:4',
      'http://127.0.0.1:4/',
    ]);
    assert.equal(lines[4], '  A: store failing: SQLITE_FULL: database or disk is full');
    assert.equal(lines[5], '  B: ECONNREFUSED');
    assert.equal(lines[6], 'herd: 1 of 2 servers up');
  });
});
