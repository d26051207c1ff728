/**
 * White space as docs/protocol.md "Client commands" defines it: space, tab, CR, LF, FF and VT. Deliberately not
 * JavaScript's `\s`, which also matches Unicode spaces (U+00A0, U+2028, ...) that may be part of a
 * client id.
 */
const WHITE_SPACE = /[ \t\r\n\f\v]+/;

/** True for the six protocol white-space characters (by UTF-16 code unit). */
export function isProtocolWhiteSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/**
 * Splits a command line into its fields (docs/protocol.md "Client commands"): separated by one or more white-space
 * characters, leading and trailing white space ignored.
 *
 * @param line - one line without its terminator.
 * @returns the fields, or an empty array for a line that is only white space.
 */
export function splitFields(line: string): string[] {
  let start = 0;
  let end = line.length;
  while (start < end && isProtocolWhiteSpace(line.charCodeAt(start))) start++;
  while (end > start && isProtocolWhiteSpace(line.charCodeAt(end - 1))) end--;
  if (start === end) return [];
  return (start === 0 && end === line.length ? line : line.slice(start, end)).split(WHITE_SPACE);
}
