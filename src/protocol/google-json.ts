/**
 * JSON printed the way Google's legacy web services print it: three-space indent, `"key" : value`,
 * empty arrays as `[]` and empty objects as `{}`, keys in the order given. Example (Nearby Search):
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

function write(value: unknown, indent: string, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    out.push(JSON.stringify(value) ?? 'null');
    return;
  }
  const inner = indent + INDENT;
  if (Array.isArray(value)) {
    const items = value as readonly unknown[];
    if (items.length === 0) {
      out.push('[]');
      return;
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
