/**
 * The README's command table against the command line itself: every command has a row, and a row
 * names exactly the options that the command's `--help` lists (the help is built in-process from the
 * same program the CLI runs, src/cli/program.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { ROOT } from '../helpers/herd-process.js';

/** The long options (`--config`, `--no-restart`) in a text. */
const longOptions = (text: string): string[] => [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].sort();

/** The command column of each `herd ...` row of README.md's command table, by command path. */
function readmeRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n')) {
    const cell = /^\| `(herd [^`]*(?:\\\|[^`]*)*)`/.exec(line)?.[1];
    if (cell === undefined) continue;
    const usage = cell.replace(/\\\|/g, '|');
    const words: string[] = [];
    for (const word of usage.split(' ').slice(1)) {
      if (!/^[a-z]+$/.test(word)) break;
      words.push(word);
    }
    rows.set(words.join(' '), usage);
  }
  return rows;
}

/** Every command that runs something (not `help`, not a group such as `places`), by path. */
function leafCommands(command: Command, prefix: string[] = []): Map<string, Command> {
  const out = new Map<string, Command>();
  for (const sub of command.commands) {
    const names = [...prefix, sub.name()];
    if (sub.commands.length > 0) for (const [key, leaf] of leafCommands(sub, names)) out.set(key, leaf);
    else out.set(names.join(' '), sub);
  }
  return out;
}

test("the README's command table has a row per command, with exactly the options of its --help", () => {
  const rows = readmeRows();
  const commands = leafCommands(buildProgram());
  assert.ok(commands.size >= 7, [...commands.keys()].join(', '));
  for (const [name, command] of commands) {
    const row = rows.get(name);
    assert.ok(row !== undefined, `README.md has no row for herd ${name}`);
    const help = command.helpInformation();
    const options = longOptions(help.slice(help.indexOf('Options:'))).filter((option) => option !== '--help');
    assert.deepEqual(longOptions(row), options, `herd ${name}: README row vs --help`);
  }
  for (const name of rows.keys())
    assert.ok(commands.has(name), `README.md has a row for herd ${name}, no such command`);
});
