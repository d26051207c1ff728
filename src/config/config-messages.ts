/**
 * How a config mistake is worded: one line that names the field and says the fix, in the style of
 * the CLIs people already know (a "did you mean" by edit distance for a mistyped key, a line and
 * column with the line quoted for bad JSON, the shipped herds for a file that does not exist).
 * docs/operations.md "Troubleshooting" lists them.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { distance } from 'fastest-levenshtein';
import type * as Jsonc from 'jsonc-parser';
import type { z } from 'zod';
import { BUILT_IN_HERDS, HERDS_DIR } from './shipped-herds.js';

/** Largest edit distance (Levenshtein) at which a name is offered as "did you mean". */
export const SUGGESTION_MAX_DISTANCE = 2;

/** Longest part of a config line quoted in a JSON error, characters. */
export const QUOTED_LINE_CHARS = 80;

/**
 * The known name nearest to `word`, for a "did you mean": at most {@link SUGGESTION_MAX_DISTANCE}
 * edits away (letter case ignored) and sharing more than 40% of its letters, as commander suggests
 * options.
 *
 * @returns the nearest name, or undefined when none is near (or `word` is itself known).
 */
export function nearestName(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = SUGGESTION_MAX_DISTANCE + 1;
  for (const candidate of known) {
    if (candidate === word) return undefined;
    const edits = distance(word.toLowerCase(), candidate.toLowerCase());
    const similarity = 1 - edits / Math.max(word.length, candidate.length);
    if (edits < bestDistance && similarity > 0.4) {
      best = candidate;
      bestDistance = edits;
    }
  }
  return best;
}

/** A config path as written in messages: `servers[0].port`, `(top level)` for the root. */
export function fieldPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    out += typeof segment === 'number' ? `[${segment}]` : `${out === '' ? '' : '.'}${String(segment)}`;
  }
  return out === '' ? '(top level)' : out;
}

interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, { readonly def: SchemaDef }>;
  readonly innerType?: { readonly def: SchemaDef };
  readonly in?: { readonly def: SchemaDef };
  readonly element?: { readonly def: SchemaDef };
}

/** The field names of the object the schema expects at `segments`, or undefined when it is no object. */
function knownKeysAt(schema: z.ZodType, segments: readonly PropertyKey[]): string[] | undefined {
  let def = schema.def as unknown as SchemaDef | undefined;
  const unwrap = (): void => {
    while (def !== undefined && def.shape === undefined && def.element === undefined) {
      const inner = def.innerType ?? def.in;
      if (inner === undefined) return;
      def = inner.def;
    }
  };
  for (const segment of segments) {
    unwrap();
    def = typeof segment === 'number' ? def?.element?.def : def?.shape?.[String(segment)]?.def;
  }
  unwrap();
  return def?.shape === undefined ? undefined : Object.keys(def.shape);
}

function valueAt(raw: unknown, segments: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function samePath(a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}

/**
 * The one-line message for a config the schema refused, without the file name. A key the schema does
 * not know comes first, with the nearest known key: beside a missing required field it is most
 * likely that field mistyped (`servers[0]: unknown key "prot": did you mean "port"? (port is
 * required)`). A missing field says so; anything else is zod's message after the field's path.
 *
 * @param raw - the parsed JSON, to tell a missing field from a wrong one.
 */
export function schemaIssueMessage(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], raw: unknown): string {
  const missing = issues.filter((issue) => issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined);
  const unknownKeys = issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => ({ path: issue.path, key })) : [],
  );
  for (const issue of missing) {
    const field = String(issue.path.at(-1));
    const parent = issue.path.slice(0, -1);
    const typo = unknownKeys.find((unknown) => samePath(unknown.path, parent) && nearestName(unknown.key, [field]));
    if (typo !== undefined)
      return `${fieldPath(parent)}: unknown key "${typo.key}": did you mean "${field}"? (${field} is required)`;
  }
  const first = unknownKeys[0];
  if (first !== undefined) {
    const known = knownKeysAt(schema, first.path) ?? [];
    const near = nearestName(first.key, known);
    const hint = near === undefined ? `known keys are ${known.join(', ')}` : `did you mean "${near}"?`;
    const where = first.path.length === 0 ? '' : `${fieldPath(first.path)}: `;
    return `${where}unknown key "${first.key}" (${hint})`;
  }
  const issue = issues[0];
  if (issue === undefined) return 'invalid';
  if (issue.code === 'invalid_type' && missing.includes(issue))
    return `${fieldPath(issue.path)}: required (${issue.expected}), missing`;
  return `${fieldPath(issue.path)}: ${issue.message}`;
}

/** What jsonc-parser's error codes mean, in words (its `ParseErrorCode` names). */
const JSON_PROBLEMS: Record<string, string> = {
  InvalidSymbol: 'not a JSON value (strings and names take double quotes)',
  InvalidNumberFormat: 'not a JSON number',
  PropertyNameExpected: 'a field name in double quotes was expected',
  ValueExpected: 'a value was expected',
  ColonExpected: 'a ":" was expected after the field name',
  CommaExpected: 'a "," was expected',
  CloseBraceExpected: 'a "}" was expected',
  CloseBracketExpected: 'a "]" was expected',
  EndOfFileExpected: 'the file should end after the closing "}"',
  InvalidCommentToken: 'JSON has no comments',
  UnexpectedEndOfComment: 'JSON has no comments',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfNumber: 'a number is cut short',
  InvalidUnicode: 'a bad \\u escape',
  InvalidEscapeCharacter: 'a bad escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
  InvalidCharacter: 'a control character (a raw tab or line break) inside a string',
};

/**
 * The one-line message for a config that is not JSON, without the file name: the line and column of
 * the first error (found by jsonc-parser, loaded only here), what was expected, and the line quoted,
 * e.g. `bad JSON at line 3, column 29: a field name in double quotes was expected (JSON allows no
 * comma before "}" or "]"): {"name": "Ball", "port": 12001,}`.
 *
 * @param text - the file's text.
 * @param error - what JSON.parse threw, used when jsonc-parser finds nothing.
 */
export function jsonErrorMessage(text: string, error: unknown): string {
  if (text.trim() === '') return 'bad JSON: the file is empty (a herd config is a JSON object, docs/operations.md)';
  const jsonc = createRequire(import.meta.url)('jsonc-parser') as typeof Jsonc;
  const errors: Jsonc.ParseError[] = [];
  jsonc.parse(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false });
  const first = errors[0];
  if (first === undefined) return `bad JSON: ${error instanceof Error ? error.message : String(error)}`;
  const code = jsonc.printParseErrorCode(first.error);
  const offset = Math.min(first.offset, text.length);
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset);
  const line = text.slice(0, lineStart).split('\n').length;
  const column = offset - lineStart + 1;
  const before = text.slice(0, offset).trimEnd();
  const trailingComma = before.endsWith(',') && /^\s*[}\]]/.test(text.slice(offset));
  const early = text.slice(offset).trim() === '' ? 'the file ends early: ' : '';
  const problem = `${early}${JSON_PROBLEMS[code] ?? code}${trailingComma ? ' (JSON allows no comma before "}" or "]")' : ''}`;
  let quoted = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  // Quote about QUOTED_LINE_CHARS around the column of a long line.
  const from = Math.max(0, Math.min(column - 1 - QUOTED_LINE_CHARS / 2, quoted.length - QUOTED_LINE_CHARS));
  if (quoted.length > QUOTED_LINE_CHARS)
    quoted = `${from > 0 ? '...' : ''}${quoted.slice(from, from + QUOTED_LINE_CHARS)}${from + QUOTED_LINE_CHARS < quoted.length ? '...' : ''}`;
  return `bad JSON at line ${line}, column ${column}: ${problem}: ${quoted.trim()}`;
}

/**
 * The one-line message for a config file that cannot be read, without the file name: for a file that
 * does not exist, the nearest shipped herd or the list of them, and how to choose one.
 *
 * @param code - the system error code (`ENOENT`, `EACCES`, `EISDIR`, ...).
 */
export function unreadableFileMessage(file: string, code: string): string {
  if (code === 'ENOENT') {
    const stem = path.basename(file, '.json');
    const near = nearestName(stem, BUILT_IN_HERDS);
    const shipped = `the shipped herds are ${BUILT_IN_HERDS.join(', ')}, in ${HERDS_DIR}`;
    return near === undefined
      ? `no such file; give your herd's config with --config FILE, or run a shipped herd with --herd ${BUILT_IN_HERDS.join('|')} (in ${HERDS_DIR})`
      : `no such file; did you mean --herd ${near}? (${shipped})`;
  }
  if (code === 'EISDIR') return 'is a folder, not a config file: give the JSON file with --config FILE';
  if (code === 'EACCES' || code === 'EPERM') return `cannot read (${code}): check the file's permissions`;
  return `cannot read (${code})`;
}
