/**
 * Sums what bench/process-cpu-probe.cjs wrote: CPU by kind of process (the test file, `herd start`,
 * `herd serve`, other `herd` commands), and for the servers by phase: to listening, from listening to
 * SIGTERM (or to exit), from SIGTERM to exit.
 *
 *     HERD_BENCH_CPU_FILE=/tmp/cpu.jsonl NODE_OPTIONS="--require $PWD/bench/process-cpu-probe.cjs" \
 *       node --enable-source-maps --test .test-build/test/integration/stop-two.test.js
 *     node --import tsx bench/process-cpu-summary.ts /tmp/cpu.jsonl
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One line of the probe's file. */
interface ProcessCpu {
  readonly argv: string;
  readonly listen?: number;
  readonly term?: number;
  readonly exit: number;
}

/** What the rows of one kind of process add up to, ms of CPU. */
interface KindTotal {
  count: number;
  cpu: number;
  toListen: number;
  life: number;
  stop: number;
}

/** The kind of a process from its arguments: `herd <command>` (main.js), else its script. */
export function kindOf(argv: string): string {
  const words = argv.split(' ');
  const main = words.indexOf('main.js');
  if (main >= 0) return `herd ${words[main + 1] ?? ''}`.trim();
  return words[0] ?? argv;
}

/** Totals by kind, largest CPU first. */
export function summarize(rows: readonly ProcessCpu[]): [string, KindTotal][] {
  const kinds = new Map<string, KindTotal>();
  for (const row of rows) {
    const kind = kindOf(row.argv);
    const total = kinds.get(kind) ?? { count: 0, cpu: 0, toListen: 0, life: 0, stop: 0 };
    const listened = row.listen ?? 0;
    const end = row.term ?? row.exit;
    total.count++;
    total.cpu += row.exit;
    total.toListen += listened;
    total.life += end - listened;
    total.stop += row.exit - end;
    kinds.set(kind, total);
  }
  return [...kinds].sort((a, b) => b[1].cpu - a[1].cpu);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node --import tsx bench/process-cpu-summary.ts FILE\n');
    process.exitCode = 2;
  } else {
    const rows = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ProcessCpu);
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`.padStart(9);
    process.stdout.write(`${'kind'.padEnd(28)}processes      CPU  to listen  listening  after SIGTERM\n`);
    for (const [kind, total] of summarize(rows))
      process.stdout.write(
        `${kind.padEnd(28)}${String(total.count).padStart(9)}${s(total.cpu)}${s(total.toListen).padStart(11)}${s(total.life).padStart(11)}${s(total.stop).padStart(15)}\n`,
      );
    process.stdout.write(
      `${'all'.padEnd(28)}${String(rows.length).padStart(9)}${s(rows.reduce((sum, row) => sum + row.exit, 0))}\n`,
    );
  }
}
