/**
 * The bench report's table for people (`npm run bench` without `--json`): one row per figure, with
 * its value, latency, ratio to the floor of the same run and target verdict. The report itself is
 * built in ./report.ts.
 */
import type { BenchReport } from './report.js';
import { costRows } from './scenarios/cost.js';
import { placesRows } from './scenarios/places.js';
import { redisRows } from './scenarios/redis.js';
import { scaleRows } from './scenarios/scale.js';
import { soakRows } from './scenarios/soak.js';
import { startupRows } from './scenarios/startup-report.js';

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (n >= 100 ? String(Math.round(n)) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const mb = (bytes: number): string => `${Math.round(bytes / 1048576)}`;
const times = (r: number | null): string => (r === null ? '' : `${r.toFixed(r < 0.1 ? 3 : 2)}x`);
const latency = (f: { p50_ms: number; p99_ms: number; p999_ms: number }): string =>
  `${ms(f.p50_ms)} / ${ms(f.p99_ms)} / ${ms(f.p999_ms)}`;

type Row = readonly [scenario: string, figure: string, value: string, latency: string, ratio: string, target: string];

function verdict(report: BenchReport, name: string): string {
  const target = report.targets.find((t) => t.name === name);
  if (target === undefined || target.met === null) return '';
  return `${target.target} ${target.met ? 'met' : 'MISSED'}`;
}

/** The report as one plain-text table, with the machine and run in a header line. */
export function formatTable(report: BenchReport): string {
  const m = report.machine;
  const rows: Row[] = [];
  const c = report.floor?.latency.w1.connections ?? report.iamat?.w1.connections ?? 50;
  if (report.floor !== null) {
    const runs = (values: readonly number[]): string =>
      values.length < 2 ? '' : ` (mean of ${values.map(count).join(' and ')})`;
    rows.push([
      'floor',
      `echo lines/s, C=${c} W=1${runs(report.floor.runs.w1)}`,
      count(report.floor.w1),
      latency(report.floor.latency.w1),
      '1.00x',
      '',
    ]);
    rows.push([
      'floor',
      `echo lines/s, C=${c} W=16${runs(report.floor.runs.w16)}`,
      count(report.floor.w16),
      latency(report.floor.latency.w16),
      '1.00x',
      '',
    ]);
  }
  if (report.iamat !== null) {
    const who = report.iamat.neighbours === 0 ? '1 server, no peers' : `server with ${report.iamat.neighbours} peers`;
    rows.push([
      'iamat',
      `IAMAT/s, ${who}, W=1`,
      count(report.iamat.w1.rate),
      latency(report.iamat.w1),
      times(report.iamat.w1.ratio_to_floor),
      verdict(report, 'iamat W=1 / floor W=1'),
    ]);
    rows.push([
      'iamat',
      `IAMAT/s, ${who}, W=16`,
      count(report.iamat.w16.rate),
      latency(report.iamat.w16),
      times(report.iamat.w16.ratio_to_floor),
      verdict(report, 'iamat W=16 / floor W=16'),
    ]);
  }
  if (report.iamat_sync !== null) {
    rows.push([
      'iamat sync',
      'IAMAT/s, store.sync: true, W=1',
      count(report.iamat_sync.w1.rate),
      latency(report.iamat_sync.w1),
      times(report.iamat_sync.w1.ratio_to_floor),
      [verdict(report, 'iamat sync W=1 / floor W=1'), verdict(report, 'iamat sync W=1 p50, ms')].join(', '),
    ]);
    rows.push([
      'iamat sync',
      'IAMAT/s, store.sync: true, W=16',
      count(report.iamat_sync.w16.rate),
      latency(report.iamat_sync.w16),
      times(report.iamat_sync.w16.ratio_to_floor),
      '',
    ]);
  }
  if (report.herd !== null) {
    const h = report.herd;
    rows.push([
      'herd ingest',
      `updates/s on all ${h.servers} (max; acks ${count(h.ack_rate)}/s)`,
      count(h.rate),
      `prop. ${ms(h.propagation_p50_ms)} / ${ms(h.propagation_p99_ms)}`,
      times(h.ratio_to_floor),
      verdict(report, 'herd ingest / floor W=16'),
    ]);
    const floor = h.floor_at_1k;
    if (floor !== null) {
      rows.push([
        'herd ingest',
        "floor: bare relays on the herd's links at 1k/s, far side, ms",
        '',
        latency(floor),
        '1.00x',
        '',
      ]);
    }
    const p99Ratio = (value: number | null): string => (value === null ? '' : `${times(value)} p99`);
    rows.push([
      'herd ingest',
      'propagation at 1k/s, fresh herd (its first seconds), ms',
      '',
      `${ms(h.propagation_p50_ms_at_1k)} / ${ms(h.propagation_p99_ms_at_1k)} / ${ms(h.propagation_p999_ms_at_1k)}`,
      p99Ratio(h.propagation_p99_ratio_to_floor_at_1k),
      '',
    ]);
    rows.push([
      'herd ingest',
      'propagation at 1k/s, warm herd, ms',
      '',
      latency(h.warm_at_1k),
      p99Ratio(h.warm_p99_ratio_to_floor_at_1k),
      verdict(report, 'propagation p99 at 1k/s, warm herd, ms'),
    ]);
  }
  if (report.whatsat !== null) {
    const w = report.whatsat;
    rows.push([
      'whatsat',
      `WHATSAT/s, 10 km, bound 20, W=${w.window} (${count(w.reply_bytes)} B)`,
      count(w.rate),
      latency(w),
      times(w.ratio_to_floor),
      verdict(report, 'WHATSAT/s'),
    ]);
  }
  if (report.memory !== null) {
    const mem = report.memory;
    const level = mem.log_level === null ? '' : `, servers at ${mem.log_level}`;
    rows.push([
      'memory',
      `bytes/client, RSS (${count(mem.clients)} clients${level})`,
      count(mem.bytes_per_client),
      '',
      '',
      verdict(report, 'bytes per client (RSS)'),
    ]);
    if (mem.heap_bytes_per_client !== null)
      rows.push(['memory', 'bytes/client, heap after GC', count(mem.heap_bytes_per_client), '', '', '']);
    for (const server of mem.servers) {
      const heap = server.heap_used_bytes === null ? '?' : mb(server.heap_used_bytes);
      const heapBefore = server.heap_used_bytes_before === null ? '?' : mb(server.heap_used_bytes_before);
      rows.push([
        'memory',
        `${server.name}: RSS / heap MB (before: ${mb(server.rss_bytes_before)} / ${heapBefore})`,
        `${mb(server.rss_bytes)} / ${heap}`,
        '',
        '',
        '',
      ]);
    }
  }
  if (report.startup !== null) rows.push(...startupRows(report.startup));
  if (report.catch_up !== null) {
    const a = report.catch_up;
    rows.push([
      'catch-up',
      `${a.server} empty -> ${count(a.clients)} clients, ms`,
      count(a.catch_up_ms),
      `from kill ${count(a.from_kill_ms)}`,
      '',
      '',
    ]);
    const records =
      a.records_received === null
        ? ''
        : `${count(a.records_received)} records in, ${count(a.records_stored ?? 0)} stored`;
    rows.push([
      'catch-up',
      `bytes on its links (${count(a.bytes_per_client)}/client)`,
      count(a.bytes_exchanged),
      records,
      '',
      '',
    ]);
  }
  if (report.dashboard !== null) {
    const d = report.dashboard;
    rows.push([
      'dashboard',
      `herd ingest updates/s, ${d.pages} pages open (without: ${count(d.rate_without)})`,
      count(d.rate_with),
      `cost ${d.ingest_cost_percent.toFixed(1)}% (median of ${d.runs_with.length} rounds)`,
      '',
      verdict(report, 'ingest cost of 3 dashboard pages, %'),
    ]);
    rows.push([
      'dashboard',
      `server CPU per update, us, ${d.pages} pages open (without: ${d.cpu_us_per_update_without})`,
      String(d.cpu_us_per_update_with),
      `cost ${d.cpu_cost_percent.toFixed(1)}% (median of rounds)`,
      '',
      '',
    ]);
    rows.push([
      'dashboard',
      `one page: events/s, bytes/s (bound ${count(d.stream_unwritten_bound_bytes)} B unwritten)`,
      `${d.events_per_second_per_page.toFixed(1)}`,
      `${count(d.bytes_per_second_per_page)} B/s`,
      '',
      '',
    ]);
    rows.push([
      'dashboard',
      `first paint, ms, ${count(d.first_paint_clients)} clients (${d.first_paint_mode ?? 'no browser'})`,
      d.first_paint_ms === null ? '-' : count(d.first_paint_ms),
      d.page_longest_task_ms === null ? (d.browser ?? '') : `longest task ${count(d.page_longest_task_ms)} ms`,
      '',
      '',
    ]);
    rows.push([
      'dashboard',
      `snapshot scan of ${count(d.first_paint_clients)} clients, ms (${d.snapshot_slices} slices)`,
      ms(d.snapshot_scan_ms),
      `longest slice ${ms(d.snapshot_longest_slice_ms)} ms`,
      '',
      '',
    ]);
  }

  if (report.soak !== null)
    rows.push(...soakRows(report.soak, verdict(report, 'soak retained memory growth after the warm-up, %')));
  if (report.cost_us !== null) rows.push(...costRows(report.cost_us));
  if (report.redis !== null) rows.push(...redisRows(report.redis));
  if (report.places !== null) rows.push(...placesRows(report.places));
  if (report.heartbeat !== null) {
    const h = report.heartbeat;
    rows.push([
      'heartbeat',
      `idle link, payload B/s (every ${h.heartbeat_interval_ms} ms, both ways, ${h.window_s} s)`,
      String(h.payload_bytes_per_s_per_link),
      `${h.segments_per_s_per_link} segments/s, ~${Math.round(h.wire_bytes_per_s_per_link)} B/s on a wire`,
      '',
      '',
    ]);
  }

  if (report.scale !== null) rows.push(...scaleRows(report.scale));

  const header: Row = ['Scenario', 'Figure', 'Value', 'p50 / p99 / p99.9 ms', 'x floor', 'Target'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]?.length ?? 0)));
  const line = (row: Row): string =>
    row
      .map((cell, i) => (i === 2 || i === 4 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const title =
    `herd bench${report.quick ? ' --quick' : ''} · ${report.started_at.slice(0, 19).replace('T', ' ')} UTC · ${report.duration_s} s · ` +
    `${m.nproc} x ${m.cpu_model} · node ${m.node} · servers logLevel ${report.log_level}` +
    (report.target === 'local' ? '' : ` · target ${report.target}`);
  const notes = [
    ...Object.entries(report.errors).map(([scenario, error]) => `FAILED ${scenario}: ${error}`),
    ...Object.entries(report.skipped).map(([scenario, why]) => `skipped ${scenario}: ${why}`),
  ];
  return [title, '', line(header), rule, ...rows.map(line), ...(notes.length === 0 ? [] : ['', ...notes]), ''].join(
    '\n',
  );
}
