// Types of slowest-reporter.mjs (plain JavaScript, as node 20 loads reporters before tsx), for its test.
export declare const SLOWEST_LISTED: number;
export declare function slowestTable(
  title: string,
  timed: readonly { name: string; file: string; ms: number }[],
  count?: number,
): string;
export declare function sourceName(file: string | undefined): string;
declare function slowestReporter(source: AsyncIterable<unknown>): AsyncGenerator<string>;
export default slowestReporter;
