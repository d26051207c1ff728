/**
 * The defaults the docs list are the code's: every row of the config tables in docs/operations.md
 * ("Configuration", "Limits and security", the dashboard's bounds) and docs/places.md ("Config") is
 * compared with what {@link validateHerdConfig} fills into a config that gives nothing, and every
 * field of the `peer`, `limits` and `dashboard` sections has a row.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validateHerdConfig } from '../../src/config/herd-config.js';
import { PEER_PORT_OFFSET } from '../../src/config/herd-schema.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';
import { DEFAULT_SERVER_LIMITS } from '../../src/server/limits.js';
import { DEFAULT_DASHBOARD_SETTINGS } from '../../src/dashboard/settings.js';

/** One row of a Markdown table whose first cell names fields in backticks and whose second is a default. */
interface DefaultRow {
  readonly doc: string;
  readonly fields: readonly string[];
  readonly text: string;
}

/**
 * The rows of every table in `doc` whose header starts `| field | default |` or `| limit | default |`.
 * A bare name is a field of `limits` in a limit table, and of the server beside a `servers[].` field.
 */
function defaultRows(doc: string, prefix = ''): DefaultRow[] {
  const rows: DefaultRow[] = [];
  let table: string | undefined;
  for (const line of readFileSync(`docs/${doc}`, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (!line.startsWith('|')) table = undefined;
    else if (/^(field|limit)$/.test(cells[1] ?? '') && cells[2] === 'default') table = cells[1];
    else if (table !== undefined && !/^-+$/.test(cells[1] ?? '')) {
      const fields = [...(cells[1] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);
      const named = fields.map((field, i) => {
        if (field.includes('.')) return prefix + field;
        if (table === 'limit') return `limits.${field}`;
        return i > 0 && fields[0]?.startsWith('servers[].') === true ? `servers[].${field}` : prefix + field;
      });
      rows.push({ doc, fields: named, text: cells[2] ?? '' });
    }
  }
  return rows;
}

/** The value at a dotted path of the default config; `servers[]` is its one server. */
function valueAt(config: unknown, path: string): unknown {
  let value: unknown = config;
  for (const key of path.replace('servers[]', 'servers.0').split('.')) {
    value = value === undefined ? undefined : (value as Record<string, unknown>)[key];
  }
  return value;
}

/** What a default's text says, or `SKIP` for text that names no value (`(required)`, prose). */
const SKIP = Symbol('skip');
function parseDefault(text: string): unknown {
  const quoted = /^`([^`]+)`$/.exec(text.trim());
  const bare = quoted?.[1] ?? text.trim();
  if (bare === 'none' && quoted === null) return undefined;
  if (/^\d+$/.test(bare)) return Number(bare);
  if (quoted === null) return bare === 'offline' ? bare : SKIP;
  if (bare === 'true' || bare === 'false') return bare === 'true';
  if (bare.startsWith('[') || bare.startsWith('"')) return JSON.parse(bare) as unknown;
  return bare;
}

const SERVER = { name: 'A', port: 2000 };
const config = validateHerdConfig({ servers: [SERVER] }, 'defaults.json');
const ROWS = [...defaultRows('operations.md'), ...defaultRows('places.md', 'places.')];

describe('the documented defaults', () => {
  test('every default in the config tables is the one the code fills in', () => {
    let checked = 0;
    for (const row of ROWS) {
      const texts = row.fields.length > 1 && row.text.includes(',') ? row.text.split(',') : [row.text];
      row.fields.forEach((field, i) => {
        const text = (texts.length > 1 ? texts[i] : texts[0]) as string;
        const actual = valueAt(config, field === 'places' ? 'places.source' : field);
        if (field === 'servers[].peerPort') {
          assert.match(text, new RegExp(`\\+ ${PEER_PORT_OFFSET}`));
          assert.equal(actual, SERVER.port + PEER_PORT_OFFSET);
        } else if (field === 'servers[].peerHost') {
          assert.equal(text, '`host`');
          assert.equal(actual, config.servers[0]?.host);
        } else {
          const expected = parseDefault(text);
          if (expected === SKIP) return;
          assert.deepEqual(actual, expected, `${row.doc}: ${field} is documented as ${text}`);
        }
        checked++;
      });
    }
    assert.ok(checked >= 60, `only ${checked} documented defaults were found: did a table's header change?`);
  });

  test('every field of peer, limits and dashboard has a row', () => {
    const documented = new Set(ROWS.flatMap((row) => row.fields));
    const sections = {
      peer: DEFAULT_LINK_SETTINGS,
      limits: DEFAULT_SERVER_LIMITS,
      dashboard: DEFAULT_DASHBOARD_SETTINGS,
    };
    for (const [section, defaults] of Object.entries(sections)) {
      for (const key of Object.keys(defaults)) {
        assert.ok(documented.has(`${section}.${key}`), `docs/operations.md has no default for ${section}.${key}`);
      }
    }
  });

  test('a table row that disagrees with the code is caught', () => {
    const wrong = parseDefault('`4097`');
    assert.notDeepEqual(valueAt(config, 'limits.maxLineBytes'), wrong);
    assert.equal(parseDefault('(required)'), SKIP);
    assert.equal(parseDefault('none'), undefined);
    assert.deepEqual(parseDefault('`[]`'), []);
  });
});
