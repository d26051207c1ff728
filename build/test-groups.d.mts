/** Types of ./test-groups.mjs, for the TypeScript tests that import it. */
export declare const GROUPED_DIRS: readonly string[];
export declare const GROUPS_DIR: string;
export declare const GROUP_COUNT: number;
export declare const OWN_PROCESS: ReadonlySet<string>;
export declare function groupModule(name: string, sources: readonly string[]): string;
export declare function writeTestGroups(root: string, outDir: string): { groups: number; files: number };
