// Types of run-tests.mjs (plain JavaScript, run by npm before anything is compiled), for its test.
export declare const TEST_DIRS: readonly string[];
export declare const CONCURRENCY: number;
export declare const LONGEST_FILES: readonly (readonly [source: string, seconds: number])[];
export declare function orderedFiles(buildDir: string): string[];
