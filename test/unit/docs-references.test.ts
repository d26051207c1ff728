/**
 * The docs list what the code does: every log event the code writes has a row in docs/operations.md
 * "Logs", every docs section the code cites (`docs/x.md#anchor` or `docs/x.md "Section"`) exists, and
 * no comment cites a tracker's issue number (the docs are the reference, not the tracker).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Every `.ts` (and `.mjs`) file under `dir`, with its text. */
function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') || name.endsWith('.mjs'))
    .map((name) => path.join(dir, name))
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

const SRC = sources('src');

/** The code that may cite the docs: src/, and the bench, tests and build (this file's examples left out). */
const CODE = [...SRC, ...sources('bench'), ...sources('test'), ...sources('build')].filter(
  ({ file }) => file !== path.join('test', 'unit', 'docs-references.test.ts'),
);

/** The log events `text` writes: the string literals of each `event:` field (a type annotation is not one). */
export function loggedEvents(text: string): string[] {
  const events: string[] = [];
  for (const match of text.matchAll(/\bevent: ([^,}\n]+)/g)) {
    const value = match[1] as string;
    if (value.includes(' | ') || !value.includes("'")) continue;
    for (const literal of value.matchAll(/'([a-z0-9-]+)'/g)) events.push(literal[1] as string);
  }
  return events;
}

/** The text of the section of `doc` under the heading `title` (up to the next heading of its level or above). */
function section(doc: string, title: string): string {
  const lines = readFileSync(`docs/${doc}`, 'utf8').split('\n');
  const start = lines.findIndex((line) => /^#+ /.test(line) && headingText(line) === title);
  assert.notEqual(start, -1, `docs/${doc} has no section "${title}"`);
  const level = (/^#+/.exec(lines[start] as string) as RegExpExecArray)[0].length;
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && /^#+/.exec(line)![0].length <= level);
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

/** A heading's text as a reader sees it: without its `#`s and backticks. */
function headingText(line: string): string {
  return line.replace(/^#+ /, '').replace(/`/g, '').trim();
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every heading of every doc, as `file` -> texts and anchors. */
const HEADINGS = new Map(
  readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => {
      const texts = readFileSync(`docs/${name}`, 'utf8')
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map(headingText);
      return [name, { texts: new Set(texts), anchors: new Set(texts.map(anchorOf)) }] as const;
    }),
);

describe('the docs list what the code does', () => {
  test('every log event in src has a row in docs/operations.md "Logs"', () => {
    const logs = section('operations.md', 'Logs');
    const documented = new Set([...logs.matchAll(/`([a-z0-9-]+)`/g)].map((match) => match[1]));
    const missing = SRC.flatMap(({ file, text }) =>
      loggedEvents(text)
        .filter((event) => !documented.has(event))
        .map((event) => `${event} (${file})`),
    );
    assert.deepEqual(missing, [], 'log events missing from docs/operations.md "Logs"');
    assert.ok(SRC.flatMap(({ text }) => loggedEvents(text)).length > 60, 'the event pattern finds the events');
  });

  test('the event pattern takes literals and ternaries, not type annotations', () => {
    assert.deepEqual(loggedEvents("log.warn({ event: 'a-b', x }, 'm')"), ['a-b']);
    assert.deepEqual(loggedEvents("{ event: flood ? 'c' : 'd', peer }"), ['c', 'd']);
    assert.deepEqual(loggedEvents("connection(kind: string, event: 'open' | 'close'): void"), []);
  });

  test('every docs section cited in the code exists', () => {
    const broken: string[] = [];
    for (const { file, text } of CODE) {
      for (const match of text.matchAll(/docs\/([\w-]+\.md)(?:#([\w-]+)|,? "([^"]+)")?/g)) {
        const [cited, doc, anchor, wrapped] = match as unknown as [string, string, string?, string?];
        // A title may be wrapped over comment lines, and keeps its heading's backticks.
        const title = wrapped?.replace(/\s*\n\s*\*\s*/g, ' ').replace(/`/g, '');
        const headings = HEADINGS.get(doc);
        if (headings === undefined) broken.push(`${cited} (${file}): no such doc`);
        else if (anchor !== undefined && !headings.anchors.has(anchor)) broken.push(`${cited} (${file})`);
        else if (title !== undefined && !headings.texts.has(title)) broken.push(`${cited} (${file})`);
      }
    }
    assert.deepEqual(broken, [], 'docs sections cited in the code that do not exist');
  });

  test('no comment in src cites a tracker issue', () => {
    const cited = SRC.flatMap(({ file, text }) =>
      [...text.matchAll(/\bissues? #?\d+/gi)].map((match) => `${file}: ${match[0]}`),
    );
    assert.deepEqual(cited, []);
  });
});
