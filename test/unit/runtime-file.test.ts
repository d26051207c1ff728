/**
 * The runtime file of `herd start` (where `herd status` and `herd stop` find a running herd): read back
 * while its supervisor runs, ignored when stale or malformed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  readRuntimeFile,
  removeRuntimeFile,
  runtimeFilePath,
  writeRuntimeFile,
  type RuntimeFile,
} from '../../src/cli/runtime-file.js';
import { tempFolder } from '../helpers/temp-folder.js';

describe('the runtime file', () => {
  const folder = tempFolder('herd-runtime-');

  const content = (configFile: string, supervisorPid: number): RuntimeFile => ({
    version: 2,
    configFile,
    supervisorPid,
    updatedAt: new Date().toISOString(),
    servers: {
      A: {
        host: '127.0.0.1',
        port: 40001,
        peerHost: '127.0.0.1',
        peerPort: 40003,
        adminUrl: 'http://127.0.0.1:40002',
        pid: 1234,
        logFile: '/tmp/A.log',
      },
    },
  });

  test('is read back for the same config while its supervisor runs, and removed without error', () => {
    const file = runtimeFilePath(folder.dir);
    assert.equal(path.basename(file), 'herd-runtime.json');
    const configFile = path.join(folder.dir, 'herd.json');
    writeRuntimeFile(file, content(configFile, process.pid));
    assert.equal(readRuntimeFile(file, configFile)?.servers.A?.port, 40001);
    assert.equal(readRuntimeFile(file, path.join(folder.dir, 'other.json')), undefined, 'another config');
    removeRuntimeFile(file);
    assert.equal(existsSync(file), false);
    removeRuntimeFile(file);
    assert.equal(readRuntimeFile(file, configFile), undefined, 'missing');
  });

  test('is ignored when stale (its supervisor is gone) or malformed', async () => {
    const file = runtimeFilePath(folder.dir);
    const configFile = path.join(folder.dir, 'herd.json');
    // Pid numbers wrap far below 2^31 - 1 on Linux; no process has this one.
    writeRuntimeFile(file, content(configFile, 2_147_483_646));
    assert.equal(readRuntimeFile(file, configFile), undefined);
    await writeFile(file, '{"version": 2, "servers": ');
    assert.equal(readRuntimeFile(file, configFile), undefined);
  });
});
