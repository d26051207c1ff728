/** What the herd config tests share: a valid config to break one field at a time, and the error check. */
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';

/** The file name the config tests validate under. */
export const FILE = 'herds/test.json';

/** A valid three-server config to break one field at a time. */
export function base(): { servers: { name: string; host?: string; port: number }[]; links: [string, string][] } {
  return {
    servers: [
      { name: 'Alford', port: 12000 },
      { name: 'Ball', port: 12001 },
      { name: 'Hamilton', port: 12002 },
    ],
    links: [
      ['Alford', 'Ball'],
      ['Ball', 'Hamilton'],
    ],
  };
}

/** Asserts a ConfigError for `file` whose message starts with `file: field` and contains `parts`. */
export function assertConfigError(fn: () => unknown, file: string, field: string, ...parts: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    assert.equal(error.code, 'HERD_CONFIG_INVALID');
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.file, file);
    assert.ok(error.message.startsWith(`${file}: ${field}`), error.message);
    for (const part of parts)
      assert.ok(error.message.includes(part), `${JSON.stringify(part)} not in: ${error.message}`);
    return true;
  });
}
