// Types of build-stamp.mjs (plain JavaScript, run by npm before anything is compiled), for its test.
export declare const INPUT_DIRS: readonly string[];
export declare const INPUT_FILES: readonly string[];
export declare const STAMP_FILE: string;
export declare function inputsDigest(root?: string): string;
export declare function upToDate(): boolean;
