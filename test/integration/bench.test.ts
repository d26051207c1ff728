/**
 * The bench's smoke test (docs/benchmarks.md): one small scenario (`--quick --only floor`) runs once to
 * the end through the bench's own entry point; its table (stdout) has its header and row, and its
 * JSON report (`--json-file`, the object `--json` prints) has its keys and shapes; an unknown scenario
 * is refused. Numbers are not asserted
 * (these machines are noisy); that nothing is left behind is. The scenarios' parts have unit tests
 * (bench/test/bench-parts.test.ts, bench/test/soak-parts.test.ts); `npm run bench -- --quick` runs them all.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT } from '../helpers/herd-process.js';
import { nodeModule } from '../helpers/ts-module.js';

/**
 * The bench's entry point: run through tsx as `npm run bench` does, or its compiled twin when this
 * test runs compiled (`npm test`), which saves the child tsx's start (test/helpers/ts-module.ts).
 */
const BENCH_MAIN = nodeModule(path.join(ROOT, 'bench', 'main.ts'));

/** A hang guard, not a speed check: the floor scenario with --quick takes about 15 s on a shared 2-core box. */
const BENCH_TIMEOUT_MS = 90_000;

/**
 * The bench runs with its own temporary folder (TMPDIR), so that what it leaves behind is told apart
 * from the folders of any other bench on the machine.
 */
let benchTmp = os.tmpdir();

async function benchDirs(): Promise<Set<string>> {
  return new Set((await readdir(benchTmp)).filter((name) => name.startsWith('herd-bench-')));
}

/** Pids of live processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...BENCH_MAIN.nodeArgs, BENCH_MAIN.file, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: benchTmp },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench did not finish within ${BENCH_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, BENCH_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function numberAt(report: unknown, path: string): number {
  let value: unknown = report;
  for (const key of path.split('.')) {
    assert.ok(value !== null && typeof value === 'object', `${path}: ${key} is not inside an object`);
    value = (value as Record<string, unknown>)[key];
  }
  assert.equal(typeof value, 'number', `${path} should be a number, got ${JSON.stringify(value)}`);
  assert.ok(Number.isFinite(value), `${path} should be finite`);
  return value as number;
}

/** Keys every report has, whichever scenarios ran; a scenario that did not run is `null`. */
const REPORT_KEYS = ['started_at', 'duration_s', 'scenario_s', 'quick', 'machine', 'targets', 'errors', 'skipped'];
const SCENARIO_KEYS = [
  'iamat',
  'iamat_sync',
  'herd',
  'whatsat',
  'memory',
  'startup',
  'catch_up',
  'cost_us',
  'places',
  'scale',
];

describe('npm run bench', { timeout: 2 * BENCH_TIMEOUT_MS }, () => {
  before(async () => {
    benchTmp = await mkdtemp(path.join(os.tmpdir(), 'herd-bench-test-'));
  });
  after(async () => {
    await rm(benchTmp, { recursive: true, force: true });
  });

  it(
    'runs one scenario, prints the table and writes JSON with the report keys and shapes',
    { timeout: BENCH_TIMEOUT_MS },
    async () => {
      const dirsBefore = await benchDirs();
      const jsonFile = path.join(benchTmp, 'report.json');
      const { code, stdout, stderr } = await runBench(['--quick', '--only', 'floor', '--json-file', jsonFile]);
      const report = JSON.parse(await readFile(jsonFile, 'utf8')) as Record<string, unknown> & {
        errors: Record<string, string>;
        skipped: Record<string, string>;
        scenario_s: Record<string, number>;
        quick: boolean;
        targets: unknown[];
      };
      assert.deepEqual(report.errors, {}, `the scenario failed; stderr: ${stderr}`);
      assert.deepEqual(report.skipped, {});
      assert.equal(code, 0);
      assert.match(stdout, /^herd bench --quick .* node v\d+/m);
      assert.match(stdout, /floor\s+echo lines\/s, C=50 W=16 \(mean of [\d,]+ and [\d,]+\)\s+[\d,]+/);
      for (const key of REPORT_KEYS) assert.ok(key in report, `the report has ${key}`);
      assert.equal(report.quick, true);
      assert.equal(typeof report.started_at, 'string');
      assert.ok(!Number.isNaN(Date.parse(report.started_at as string)), 'started_at is a date');
      assert.deepEqual(Object.keys(report.scenario_s), ['floor']);
      numberAt(report, 'scenario_s.floor');
      numberAt(report, 'duration_s');
      for (const key of SCENARIO_KEYS) assert.equal(report[key], null, `${key} did not run, so it is null`);
      for (const key of ['floor.w1', 'floor.w16', 'floor.latency.w16.p99_ms', 'machine.nproc'])
        assert.ok(numberAt(report, key) > 0, `${key} > 0`);
      assert.ok(report.targets.length > 0, 'the targets are listed');
      for (const target of report.targets) {
        assert.deepEqual(Object.keys(target as object).sort(), ['met', 'name', 'target', 'value']);
      }

      // Nothing left behind: no temporary folder, no process started from one.
      const leftover = [...(await benchDirs())].filter((name) => !dirsBefore.has(name));
      assert.deepEqual(leftover, []);
      assert.deepEqual(await processesMentioning(`${benchTmp}/herd-bench-`), []);
    },
  );

  it(
    'rejects an unknown scenario before running any, with nothing on stdout',
    { timeout: BENCH_TIMEOUT_MS },
    async () => {
      const bad = await runBench(['--only', 'floor,nonsense']);
      assert.notEqual(bad.code, 0);
      assert.equal(bad.stdout, '');
      assert.match(bad.stderr, /unknown scenario "nonsense"/);
    },
  );
});
