/**
 * JSON printed the way Google's legacy web services print it (as in captured Nearby Search
 * responses): three-space indent, `"key" : value`, empty arrays as `[]` and empty objects as `{}`,
 * short arrays of scalars on one line (`"types" : [ "locality", "political" ]`), `<` and `>` in strings
 * escaped as `\u003c` and `\u003e`, keys in the order given. Example:
 *
 * ```
 * {
 *    "html_attributions" : [],
 *    "results" : [
 *       {
 *          "geometry" : {
 * ```
 */

const INDENT = '   ';
/** Longest array of scalars, as `[ a, b ]`, printed on one line; longer ones get a line per item. */
export const INLINE_ARRAY_MAX_CHARS = 80;

const ANGLE_BRACKETS = /[<>]/g;

function scalar(value: unknown): string {
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.replace(ANGLE_BRACKETS, (c) => (c === '<' ? '\\u003c' : '\\u003e'));
  }
  return JSON.stringify(value) ?? 'null';
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

/**
 * Serialises a JSON value in Google's pretty-printed style.
 *
 * @param value - a JSON-compatible value (plain objects, arrays, strings, finite numbers, booleans,
 *   null); object members whose value is `undefined` are left out, as with `JSON.stringify`.
 *   Non-finite numbers become `null`.
 * @returns the document, without a trailing newline.
 */
export function formatGoogleJson(value: unknown): string {
  const parts: string[] = [];
  write(value, '', parts);
  return parts.join('');
}

/**
 * Printed text of frozen objects, by indent: a frozen object cannot change, so its text can be
 * reused. The offline places source returns the same frozen result object for a place every time,
 * which makes a WHATSAT's JSON mostly reused text. Entries go with their objects.
 */
const frozenText = new WeakMap<object, { indent: string; text: string }>();

function write(value: unknown, indent: string, out: string[]): void {
  if (typeof value === 'object' && value !== null && Object.isFrozen(value)) {
    const cached = frozenText.get(value);
    if (cached !== undefined && cached.indent === indent) {
      out.push(cached.text);
      return;
    }
    const parts: string[] = [];
    writeFresh(value, indent, parts);
    const text = parts.join('');
    frozenText.set(value, { indent, text });
    out.push(text);
    return;
  }
  writeFresh(value, indent, out);
}

function writeFresh(value: unknown, indent: string, out: string[]): void {
  if (isScalar(value)) {
    out.push(scalar(value));
    return;
  }
  const inner = indent + INDENT;
  if (Array.isArray(value)) {
    const items = value as readonly unknown[];
    if (items.length === 0) {
      out.push('[]');
      return;
    }
    if (items.every(isScalar)) {
      const inline = `[ ${items.map(scalar).join(', ')} ]`;
      if (inline.length <= INLINE_ARRAY_MAX_CHARS) {
        out.push(inline);
        return;
      }
    }
    out.push('[\n');
    for (let i = 0; i < items.length; i++) {
      out.push(inner);
      write(items[i], inner, out);
      out.push(i + 1 < items.length ? ',\n' : '\n');
    }
    out.push(indent, ']');
    return;
  }
  const object = value as { readonly [key: string]: unknown };
  let first = true;
  for (const key of Object.keys(object)) {
    const member = object[key];
    if (member === undefined || typeof member === 'function') continue;
    out.push(first ? '{\n' : ',\n', inner, JSON.stringify(key), ' : ');
    first = false;
    write(member, inner, out);
  }
  out.push(first ? '{}' : `\n${indent}}`);
}
