/** The herd secret (src/peers/herd-secret.ts): where it is read from, in which order, and its minimum length. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { MIN_SECRET_BYTES, loadHerdSecret } from '../../src/peers/herd-secret.js';

describe('loadHerdSecret', () => {
  let dir: string;
  let envFile: string;
  let configFile: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'herd-secret-'));
    envFile = path.join(dir, 'env-secret');
    configFile = path.join(dir, 'config-secret');
    writeFileSync(envFile, 'from-the-env-file-0123456789\n');
    writeFileSync(configFile, 'from-the-config-file-0123456789\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('HERD_SECRET first, then the file HERD_SECRET_FILE names, then the config secretFile; none is development mode', () => {
    const all = { HERD_SECRET: 'from-the-environment-0123', HERD_SECRET_FILE: envFile };
    assert.equal(loadHerdSecret(configFile, all)?.toString(), 'from-the-environment-0123');
    assert.equal(loadHerdSecret(configFile, { HERD_SECRET_FILE: envFile })?.toString(), 'from-the-env-file-0123456789');
    assert.equal(
      loadHerdSecret(configFile, { HERD_SECRET: '', HERD_SECRET_FILE: '' })?.toString(),
      'from-the-config-file-0123456789',
    );
    assert.equal(loadHerdSecret(undefined, {}), undefined);
  });

  test(`a secret shorter than MIN_SECRET_BYTES (${MIN_SECRET_BYTES}) after trimming is refused, naming its source`, () => {
    assert.equal(
      loadHerdSecret(undefined, { HERD_SECRET: `${'s'.repeat(MIN_SECRET_BYTES)}\n` })?.length,
      MIN_SECRET_BYTES,
    );
    assert.throws(
      () => loadHerdSecret(undefined, { HERD_SECRET: ` ${'s'.repeat(MIN_SECRET_BYTES - 1)} ` }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /HERD_SECRET/.test(error.message) &&
        new RegExp(`at least ${MIN_SECRET_BYTES} bytes \\(got ${MIN_SECRET_BYTES - 1}\\)`).test(error.message),
    );
  });

  test('a file that cannot be read is a ConfigError naming the file', () => {
    const missing = path.join(dir, 'missing');
    assert.throws(
      () => loadHerdSecret(missing, {}),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes(missing) && /ENOENT/.test(error.message),
    );
  });
});
