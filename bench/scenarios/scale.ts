/**
 * Scenario `scale` (docs/benchmarks.md "Scale"): what size costs. Each shape of ../scale-shapes.ts
 * (rings of 5 to 40, random degree-3 graphs of 20 and 40, full meshes of 10 and 20; `--quick`: a
 * ring of 4) is measured with both `peer.dissemination` modes (./scale-run.ts), beside
 * its floor measured in the same run (../scale-floor.ts): bare relays along the shortest-path tree,
 * N-1 messages per update. The table rows, and the plot of far-side p99 and link lines per update
 * against herd size (../scale-plot.ts, written with `--plot FILE`).
 */
import { DISSEMINATIONS } from '../../src/peers/link-settings.js';
import type { BenchContext } from '../bench-context.js';
import { BenchError, ScenarioSkipped } from '../bench-error.js';
import { PROBE_DIR_ENV, benchDir, benchEnv, memoryProbeNodeArgs } from '../bench-processes.js';
import { AT_LINE_BYTES, runRelayFloor, type RelayFloorResult } from '../scale-floor.js';
import { farSide, fullShapes, quickShapes } from '../scale-shapes.js';
import { runScaleMode, type ScaleModeResult, type ScaleSizes } from './scale-run.js';

/** Sizes of a full run and of `--quick`. */
export const SCALE_SIZES: { readonly full: ScaleSizes; readonly quick: ScaleSizes } = {
  full: { lightUpdates: 200, lightRatePerSecond: 20, maxUpdates: 5000, missedUpdates: 100 },
  quick: { lightUpdates: 10, lightRatePerSecond: 20, maxUpdates: 200, missedUpdates: 10 },
};

/** One shape: its size, its floor and each mode. */
export interface ScaleShapeResult {
  readonly shape: string;
  readonly label: string;
  readonly kind: string;
  readonly servers: number;
  readonly links: number;
  /** Hops from the first server to the far side. */
  readonly hops: number;
  /** The floor's messages per update: N-1. */
  readonly floor_lines_per_update: number;
  readonly floor: RelayFloorResult;
  readonly modes: readonly ScaleModeResult[];
  /** Mode -> why it could not be measured (e.g. a server of a large herd did not start in time on a loaded box). */
  readonly errors: Readonly<Record<string, string>>;
}

/** What `--json` reports under `scale`. */
export interface ScaleResult {
  readonly sizes: ScaleSizes;
  /** The herds' store: `durable` as shipped, or `memory` (`store.durable: false`, `--scale-memory-store`). */
  readonly store: 'durable' | 'memory';
  readonly shapes: readonly ScaleShapeResult[];
}

/** Runs the scale scenario on herds the bench starts. */
export async function runScale(context: BenchContext): Promise<ScaleResult> {
  if (context.target !== undefined)
    throw new ScenarioSkipped('the scale scenario starts herds of its own shapes (not with --config)');
  const sizes = context.quick ? SCALE_SIZES.quick : SCALE_SIZES.full;
  const { dir, cleanup } = await benchDir();
  const env = benchEnv({ [PROBE_DIR_ENV]: dir, HERD_BENCH_PROBE_GC: '0' });
  const probe = { dir, env, nodeArgs: memoryProbeNodeArgs() };
  const shapes: ScaleShapeResult[] = [];
  try {
    const chosen = context.scaleShapes;
    const all = context.quick ? quickShapes() : fullShapes();
    for (const shape of chosen === undefined ? all : all.filter((each) => chosen.includes(each.id))) {
      const modes: ScaleModeResult[] = [];
      const errors: Record<string, string> = {};
      // One shape or mode that fails (typically `herd start` of 40 servers on a loaded box) does
      // not cost the others their figures; the table and the JSON say what failed.
      for (const dissemination of DISSEMINATIONS) {
        try {
          modes.push(await runScaleMode(context, shape, dissemination, sizes, probe));
        } catch (error) {
          errors[dissemination] = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' | ');
        }
      }
      context.progress.update(`scale ${shape.id}: floor`);
      // The AT line of a light-phase update, as the herd floods it: the floor relays lines as long.
      const floor = await runRelayFloor(shape, {
        updates: sizes.lightUpdates,
        ratePerSecond: sizes.lightRatePerSecond,
        lineBytes: AT_LINE_BYTES,
        probeDir: dir,
        env,
      });
      shapes.push({
        shape: shape.id,
        label: shape.label,
        kind: shape.kind,
        servers: shape.names.length,
        links: shape.links.length,
        hops: farSide(shape).hops,
        floor_lines_per_update: shape.names.length - 1,
        floor,
        modes,
        errors,
      });
    }
  } finally {
    await cleanup();
  }
  if (shapes.every((s) => s.modes.length === 0))
    throw new BenchError(`no shape could be measured: ${JSON.stringify(shapes.map((s) => s.errors))}`);
  return { sizes, store: context.scaleMemoryStore ? 'memory' : 'durable', shapes };
}

type Row = readonly [string, string, string, string, string, string];

const ratio = (value: number, floor: number): string => (floor > 0 ? `${(value / floor).toFixed(1)}x` : '');

/** The table's rows: per shape, the floor, then each mode against it. */
export function scaleRows(result: ScaleResult): Row[] {
  const rows: Row[] = [];
  const store = result.store === 'memory' ? ' (memory store)' : '';
  for (const s of result.shapes) {
    const f = s.floor;
    rows.push([
      'scale',
      `${s.label} (${s.links} links, ${s.hops} hops): floor, relays on a tree`,
      `${s.floor_lines_per_update} lines`,
      `far ${f.far.p50_ms} / ${f.far.p99_ms} ms`,
      '1.0x',
      `cpu ${f.cpu_us_per_update} us, start ${f.start_ms} ms`,
    ]);
    for (const [mode, why] of Object.entries(s.errors))
      rows.push(['scale', `${s.label}, ${mode}: FAILED`, '-', why.slice(-70), '', '']);
    for (const m of s.modes) {
      rows.push([
        'scale',
        `${s.label}, ${m.dissemination}${store}: lines, B per update`,
        `${m.lines_per_update} lines`,
        `far ${m.far.p50_ms} / ${m.far.p99_ms} / max ${m.far.max_ms} ms`,
        ratio(m.lines_per_update, s.floor_lines_per_update),
        `${m.bytes_per_update} B`,
      ]);
      rows.push([
        'scale',
        `${s.label}, ${m.dissemination}${store}: CPU per update light / max, us`,
        `${m.cpu_us_per_update_light}`,
        `max ${m.cpu_us_per_update_max} us at ${m.max_rate_per_s}/s`,
        ratio(m.cpu_us_per_update_light, f.cpu_us_per_update),
        `p99 ${ratio(m.far.p99_ms, f.far.p99_ms)} floor`,
      ]);
      rows.push([
        'scale',
        `${s.label}, ${m.dissemination}${store}: herd start / links up, ms`,
        `${m.start_ms}`,
        `links up ${m.links_up_ms} ms, RSS ${m.rss_mb_per_server} MB/server`,
        ratio(m.start_ms, f.start_ms),
        `${m.victim} restart: ${m.restart_converge_ms} ms`,
      ]);
    }
  }
  return rows;
}
