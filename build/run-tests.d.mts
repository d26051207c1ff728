// Types of run-tests.mjs (plain JavaScript, run by npm test), for its test.
export declare const DEFAULT_CONCURRENCY: number;
export declare const TEST_DIRS: readonly string[];
export declare const LONGEST_FIRST: readonly string[];
export declare function orderedTestFiles(buildDir?: string): string[];
