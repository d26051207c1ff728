/** Reads a byte stream as UTF-8 lines, with their 1-based numbers, for the tab-separated GeoNames dumps. */
import { StringDecoder } from 'node:string_decoder';

/**
 * Calls `onLine` for each line of the stream (without its `\n` or `\r\n`). A last line without a
 * newline counts; an empty stream has no lines.
 *
 * @param onBytes - called with the size of each chunk read.
 * @returns the number of lines.
 */
export async function forEachLine(
  stream: AsyncIterable<Buffer | string>,
  onLine: (line: string, lineNumber: number) => void,
  onBytes: (bytes: number) => void = () => {},
): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNumber = 0;
  const emit = (line: string): void => {
    onLine(line.endsWith('\r') ? line.slice(0, -1) : line, ++lineNumber);
  };
  for await (const chunk of stream) {
    onBytes(chunk.length);
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const lines = text.split('\n');
    carry = lines.pop() as string;
    for (const line of lines) emit(line);
  }
  const rest = carry + decoder.end();
  if (rest !== '') emit(rest);
  return lineNumber;
}
