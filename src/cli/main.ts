/**
 * The `herd` command line (program.ts). Every failure ends in one line on stderr, `herd: <what and
 * the fix>`, and a documented exit code (errors.ts `exitCodeOf`: 2 usage or config, 1 run time).
 * Under `herd start`, a server that cannot start tells the supervisor instead (ipc.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { EXIT_RUNTIME, HerdError, exitCodeOf } from '../errors.js';
import { reportStartFailure } from './ipc.js';
import { buildProgram, commanderExitCode } from './program.js';
import { mapStackTraces, sourceStack } from './stack-traces.js';

// Run from the bundle (build/bundle.ts), the stack traces shown still name the source files.
mapStackTraces(path.dirname(fileURLToPath(import.meta.url)));
// A reader that stopped reading (`herd --help | head -1`): what is left to print is dropped, and the
// command runs to its end and exits with its own code, as other command lines do; never a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

/** What to do about a system error of a file or folder the user named, by its code. */
const SYSTEM_ERROR_FIXES: Record<string, string> = {
  EACCES: "check the file's or folder's permissions",
  EPERM: "check the file's or folder's permissions",
  ENOENT: 'the folder does not exist: create it, or give another',
  ENOTDIR: 'a part of that path is a file, not a folder: give another folder',
  ENOSPC: 'the disk is full: free some space',
  EROFS: 'the file system is read-only: give a writable folder',
  EMFILE: 'too many open files: raise ulimit -n',
};

/** Runs the program; a failure the user can fix ends in one line and an exit code, a bug in its stack trace. */
async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync();
  } catch (error) {
    await reportFailure(error);
  }
}

async function reportFailure(error: unknown): Promise<void> {
  if (error instanceof CommanderError) {
    // Help and --version end with 0; a usage mistake was already printed in one line (program.ts).
    process.exitCode = commanderExitCode(error);
  } else if (error instanceof HerdError) {
    await reportStartFailure(error.message);
    process.exitCode = exitCodeOf(error);
  } else if (typeof (error as NodeJS.ErrnoException | undefined)?.syscall === 'string') {
    // A file or folder the system refused (a log folder not writable, a full disk): say which and why.
    const system = error as NodeJS.ErrnoException;
    const fix = SYSTEM_ERROR_FIXES[system.code ?? ''];
    await reportStartFailure(`${system.message}${fix === undefined ? '' : `; ${fix}`}`);
    process.exitCode = EXIT_RUNTIME;
  } else {
    // A bug, not a mistake of the user's: the stack trace is what a report needs.
    process.stderr.write(`${sourceStack(error)}\n`);
    process.exitCode = EXIT_RUNTIME;
  }
}

// Not a top-level await: the bundle is a CommonJS script (build/bundle.ts).
void main();
