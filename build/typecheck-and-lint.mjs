/**
 * `npm run typecheck` and `npm run lint:eslint` in one process, for `npm run checks` (and so `npm
 * test`): the TypeScript program of tsconfig.json is built once, its type check reported as `tsc -p
 * tsconfig.json --noEmit` reports it, and then handed to ESLint (typescript-eslint's
 * `parserOptions.programs`), whose type-aware rules ask the same type checker instead of building and
 * checking the same program a second time (docs/benchmarks.md "The suite (2026-12-03)"). Every file
 * and every rule of eslint.config.js is linted as `eslint .` lints it; only where the TypeScript
 * files' types come from changes.
 *
 *     node build/typecheck-and-lint.mjs
 *
 * Prints the type errors (as tsc does), then ESLint's findings (its `stylish` format). Exits 1 when
 * either found an error, after both ran. Plain JavaScript (.mjs) so that it needs no compiler.
 */
import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The checkout's root. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The program of tsconfig.json with `--noEmit`, and the diagnostics `tsc -p tsconfig.json --noEmit`
 * reports for it, in tsc's order (its emitFilesAndReportErrors): the config's, then the syntax's, and
 * only when there are none the options', global, semantic and (tsconfig.json sets `declaration`)
 * declaration diagnostics.
 *
 * @returns {{ program: import('typescript').Program, diagnostics: readonly import('typescript').Diagnostic[] }}
 */
function typecheck() {
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (diagnostic) => report([diagnostic]) };
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), { noEmit: true }, host);
  if (config === undefined) process.exit(1);
  const program = ts.createProgram({
    rootNames: config.fileNames,
    options: config.options,
    projectReferences: config.projectReferences,
    configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(config),
  });
  const diagnostics = [...program.getConfigFileParsingDiagnostics()];
  const fromConfig = diagnostics.length;
  diagnostics.push(...program.getSyntacticDiagnostics());
  if (diagnostics.length === fromConfig) {
    diagnostics.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
    if (diagnostics.length === fromConfig) diagnostics.push(...program.getSemanticDiagnostics());
    if (diagnostics.length === fromConfig && (config.options.declaration || config.options.composite))
      diagnostics.push(...program.getDeclarationDiagnostics());
  }
  return { program, diagnostics: ts.sortAndDeduplicateDiagnostics(diagnostics) };
}

/**
 * Prints diagnostics as tsc prints them (with colour and context on a terminal).
 *
 * @param {readonly import('typescript').Diagnostic[]} diagnostics
 */
function report(diagnostics) {
  const host = {
    getCanonicalFileName: (file) => file,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => ts.sys.newLine,
  };
  const format = process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
  process.stdout.write(format(diagnostics, host));
}

const { program, diagnostics } = typecheck();
if (diagnostics.length > 0) {
  report(diagnostics);
  process.stdout.write(`\nFound ${diagnostics.length} type error${diagnostics.length === 1 ? '' : 's'}.\n`);
}

const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: [
    {
      // The TypeScript files only: eslint.config.js lints plain JavaScript without type information.
      files: ['**/*.ts', '**/*.mts', '**/*.cts'],
      languageOptions: { parserOptions: { projectService: false, programs: [program] } },
    },
  ],
});
const results = await eslint.lintFiles(['.']);
const formatter = await eslint.loadFormatter('stylish');
const text = await formatter.format(results, { cwd: ROOT, rulesMeta: eslint.getRulesMetaForResults(results) });
if (text !== '') process.stdout.write(text);

const lintErrors = results.reduce((sum, result) => sum + result.errorCount + result.fatalErrorCount, 0);
process.exitCode = diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error) || lintErrors > 0 ? 1 : 0;
