/**
 * The startup scenario's figures as `--json` reports them, its targets (the issue "A server takes part
 * within 150 ms of its start") and its rows of the table, each figure with its ratio to the floor
 * measured in the same run (bench/scenarios/startup.ts).
 */
import type { HerdStartBlocks } from './herd-logs.js';

/** Startup figures, as `--json` reports them. Times are medians over the starts, ms. */
export interface StartupResult {
  /** The floor: spawn to accepting of a bare `node` that only listens. */
  readonly floor_ms: number;
  /** `herd serve`, spawn to accepting. */
  readonly server_ms: number;
  /** `herd start` of the default herd, spawn to every server accepting. */
  readonly herd_ms: number;
  /**
   * The whole herd's floor: a bare `node` supervisor that forks five bare listeners as `herd start`
   * forks its servers (bench/floor-herd.cjs), spawn to every listener accepting.
   */
  readonly herd_floor_ms: number;
  /** {@link herd_ms} / {@link herd_floor_ms}, to two decimals (null for a floor of 0). */
  readonly herd_to_floor: number | null;
  /**
   * Each herd start's `loop-blocked` turns in its members' first 2 s after listening (./herd-logs.ts);
   * null when the servers log above `info`.
   */
  readonly herd_start_blocks: readonly HerdStartBlocks[] | null;
  /** A member restarted into the running herd (`herd serve`): spawn to accepting. */
  readonly restart_accept_ms: number;
  /** The same, spawn to every link up both ways (null when the log level hides link events). */
  readonly restart_links_ms: number | null;
  /** The same, spawn to the first flood it stored of a check-in at a neighbour after the spawn. */
  readonly restart_flood_ms: number | null;
  /** `herd client NAME 'IAMAT ...'`, spawn to exit. */
  readonly client_ms: number;
  /** Clients in the store of the large-store server. */
  readonly large_store_clients: number;
  /** The large-store server, spawn to accepting (one start). */
  readonly large_store_ms: number;
  /** Of {@link large_store_probes} clients spread over its store, those answered at the first accept. */
  readonly large_store_answered: number;
  readonly large_store_probes: number;
  /** Its restore of the whole table, after listening, ms (from its `store-restored` event). */
  readonly large_store_restore_ms: number | null;
  /** Time difference of an IAMAT sent the instant the port accepted, ms (0 is perfect). */
  readonly iamat_at_accept_ms: number;
  /** Longest event-loop block in the first 2 s after listening, ms. */
  readonly max_loop_delay_ms: number;
  /** RSS of the idle server with the default place data, 2 s after listening, bytes. */
  readonly idle_rss_bytes: number;
  /** Every start. */
  readonly floor_runs_ms: readonly number[];
  readonly server_runs_ms: readonly number[];
  readonly herd_runs_ms: readonly number[];
  readonly herd_floor_runs_ms: readonly number[];
  readonly client_runs_ms: readonly number[];
  readonly restart_runs: readonly { acceptMs: number; linksMs: number | null; floodMs: number | null }[];
}

/** `value / floor`, to two decimals (null for no value or a floor of 0). */
export function ratio(value: number | null, floor: number): number | null {
  return value === null || floor <= 0 ? null : Math.round((value / floor) * 100) / 100;
}

/** A target and whether a run met it (the report's `TargetCheck` shape). */
export interface StartupTarget {
  readonly name: string;
  readonly target: string;
  readonly value: number | null;
  readonly met: boolean | null;
}

/** The longest of the herd starts' logged `loop-blocked` turns, ms; 0 when there were none. */
function longestBlock(starts: readonly HerdStartBlocks[]): number {
  return Math.max(0, ...starts.flatMap((start) => start.loggedMs));
}

/** The startup targets, checked against a result (`met: null` when the scenario did not run). */
export function startupTargets(result: StartupResult | undefined): StartupTarget[] {
  const check = (
    name: string,
    target: string,
    value: number | null | undefined,
    met: (v: number) => boolean,
  ): StartupTarget =>
    value === undefined || value === null
      ? { name, target, value: null, met: null }
      : { name, target, value, met: met(value) };
  const floor = result?.floor_ms ?? 0;
  return [
    check('one server accepting / floor', '<= 2x', result && ratio(result.server_ms, floor), (v) => v <= 2),
    check(
      'restarted member: every link up / floor',
      '<= 3x',
      result && ratio(result.restart_links_ms, floor),
      (v) => v <= 3,
    ),
    check('whole herd accepting, ms', '<= 500 ms', result?.herd_ms, (v) => v <= 500),
    check('herd client / floor', '<= 2x', result && ratio(result.client_ms, floor), (v) => v <= 2),
    check('large store: accepting, ms', '<= 500 ms', result?.large_store_ms, (v) => v <= 500),
    check(
      'large store: clients answered at the first accept',
      'all',
      result && result.large_store_answered - result.large_store_probes,
      (v) => v === 0,
    ),
    check('IAMAT at the first accept, ms', '< 50 ms', result?.iamat_at_accept_ms, (v) => Math.abs(v) < 50),
    check('max event-loop delay, first 2 s', '<= 20 ms', result?.max_loop_delay_ms, (v) => v <= 20),
    check(
      'whole herd: longest loop-blocked turn, first 2 s',
      '<= 20 ms',
      result?.herd_start_blocks === null || result === undefined ? null : longestBlock(result.herd_start_blocks),
      (v) => v <= 20,
    ),
    check('idle server RSS, MB', '< 100 MB', result && result.idle_rss_bytes / 1048576, (v) => v < 100),
  ];
}

/** The table rows of a result: `[scenario, figure, value, latency, ratio, target]`, as report.ts prints them. */
export function startupRows(result: StartupResult): (readonly [string, string, string, string, string, string])[] {
  const count = (n: number | null): string => (n === null ? '-' : Math.round(n).toLocaleString('en-US'));
  const times = (value: number | null): string => {
    const r = ratio(value, result.floor_ms);
    return r === null ? '' : `${r.toFixed(2)}x`;
  };
  const verdict = (name: string): string => {
    const target = startupTargets(result).find((t) => t.name === name);
    return target === undefined || target.met === null ? '' : `${target.target} ${target.met ? 'met' : 'MISSED'}`;
  };
  const n = result.server_runs_ms.length;
  const row = (figure: string, value: number | null, target = '', rated = true) =>
    ['startup', figure, count(value), '', rated ? times(value) : '', target] as const;
  const herdTimes = (value: number): string => {
    const r = ratio(value, result.herd_floor_ms);
    return r === null ? '' : `${r.toFixed(2)}x the herd floor`;
  };
  return [
    row(
      `floor: bare node listener, spawn to accepting, ms (median of ${result.floor_runs_ms.length})`,
      result.floor_ms,
    ),
    row(
      `herd serve, spawn to accepting, ms (median of ${n})`,
      result.server_ms,
      verdict('one server accepting / floor'),
    ),
    [
      'startup',
      `herd floor: bare node supervisor forking 5 bare listeners, spawn to all accepting, ms (median of ${result.herd_floor_runs_ms.length})`,
      count(result.herd_floor_ms),
      '',
      herdTimes(result.herd_floor_ms),
      '',
    ],
    [
      'startup',
      `whole herd (herd start), spawn to accepting, ms (median of ${result.herd_runs_ms.length})`,
      count(result.herd_ms),
      '',
      herdTimes(result.herd_ms),
      verdict('whole herd accepting, ms'),
    ],
    ...(result.herd_start_blocks === null
      ? []
      : [
          [
            'startup',
            `whole herd: loop-blocked turns (over 20 ms) in the members' first 2 s, all ${result.herd_start_blocks.length} starts`,
            String(result.herd_start_blocks.reduce((sum, start) => sum + start.count, 0)),
            `per start ${result.herd_start_blocks.map((start) => start.count).join(', ')}; longest ${longestBlock(result.herd_start_blocks).toFixed(1)} ms`,
            '',
            verdict('whole herd: longest loop-blocked turn, first 2 s'),
          ] as const,
        ]),
    row(`restarted member, spawn to accepting, ms (median of ${result.restart_runs.length})`, result.restart_accept_ms),
    row(
      'restarted member, spawn to every link up both ways, ms',
      result.restart_links_ms,
      verdict('restarted member: every link up / floor'),
    ),
    row('restarted member, spawn to the first flood stored, ms', result.restart_flood_ms),
    row(
      `herd client, one command, spawn to exit, ms (median of ${result.client_runs_ms.length})`,
      result.client_ms,
      verdict('herd client / floor'),
    ),
    row(
      `${count(result.large_store_clients)} clients stored: spawn to accepting, ms (${result.large_store_answered} of ${result.large_store_probes} answered at once; restored in ${count(result.large_store_restore_ms)} ms)`,
      result.large_store_ms,
      verdict('large store: accepting, ms'),
    ),
    [
      'startup',
      'IAMAT at the first accept: time difference, ms',
      result.iamat_at_accept_ms.toFixed(2),
      '',
      '',
      verdict('IAMAT at the first accept, ms'),
    ],
    [
      'startup',
      'max event-loop delay in the first 2 s, ms',
      result.max_loop_delay_ms.toFixed(2),
      '',
      '',
      verdict('max event-loop delay, first 2 s'),
    ],
    row(
      'idle server RSS, MB (default place data)',
      result.idle_rss_bytes / 1048576,
      verdict('idle server RSS, MB'),
      false,
    ),
  ];
}
