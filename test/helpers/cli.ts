/**
 * The built command line (`dist/bundle/main.js`) run as a user runs it: a child process, to completion,
 * with what it printed and its exit code; the same program parsed in this process, for what commander
 * decides alone; and the check every user mistake must pass (one line on stderr, a documented exit code).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CommanderError, type Command } from 'commander';
import { buildProgram, commanderExitCode } from '../../src/cli/program.js';
import { CLI } from './herd-process.js';

/** What a finished `herd` run printed, and how it exited. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `herd ...args` to completion.
 *
 * @param options.env - its environment. @default process.env
 * @param options.cwd - its working directory. @default this process's
 * @param options.timeoutMs - it is killed (and the promise rejects) past this. @default 30000
 * @param options.stdoutClosed - its stdout's reader is gone before it writes (as after `herd ... | head`
 *   has read what it wanted): every write to stdout fails with EPIPE, and `stdout` is empty. @default false
 */
export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; stdoutClosed?: boolean } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    let stdout = '';
    let stderr = '';
    // Closed here, synchronously after the spawn: long before the child's Node has started to write.
    if (options.stdoutClosed === true) child.stdout.destroy();
    else child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herd ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Parses `herd ...args` in this process with the program the command line runs (src/cli/program.ts
 * `buildProgram`), for an outcome commander decides before any command runs: a usage mistake,
 * `--version`, `--help`. What it would print (stdout, stderr) and its exit code (`commanderExitCode`),
 * without the ~170 ms of CPU a `herd` process costs. Only the message is checked: the process's own
 * path (main.ts, one line, the exit code) needs one {@link runCli} of the same kind beside it.
 *
 * @throws Error when the arguments would run a command (its action is never run here).
 */
export async function parseInProcess(args: readonly string[]): Promise<CliResult> {
  const program = buildProgram();
  let stdout = '';
  let stderr = '';
  const capture = (command: Command): void => {
    command.configureOutput({ writeOut: (text) => (stdout += text), writeErr: (text) => (stderr += text) });
    for (const sub of command.commands) capture(sub);
  };
  capture(program);
  program.hook('preAction', () => {
    throw new Error(`herd ${args.join(' ')} runs a command: run it with runCli`);
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return { code: commanderExitCode(error), stdout, stderr };
    throw error;
  }
  throw new Error(`herd ${args.join(' ')} ended without a commander outcome`);
}

/**
 * Asserts the run ended as a user mistake must: exactly one line on stderr (no stack trace, no
 * usage dump) that matches `line`, and exit code `code`.
 */
export function assertOneLine(result: CliResult, code: number, line: RegExp | string): void {
  const where = `stderr: ${JSON.stringify(result.stderr)}`;
  assert.ok(result.stderr.endsWith('\n') && result.stderr.indexOf('\n') === result.stderr.length - 1, where);
  if (typeof line === 'string') assert.equal(result.stderr, `${line}\n`);
  else assert.match(result.stderr.trimEnd(), line);
  assert.equal(result.code, code, `exit code; ${where}`);
  assert.doesNotMatch(result.stderr, /\n\s+at |Node\.js v\d/, 'no stack trace');
}
