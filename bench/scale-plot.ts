/**
 * The plot of the `scale` scenario (docs/benchmarks.md "Scale"): far-side p99 and link lines per
 * update against herd size, one series per shape kind and `peer.dissemination` mode, with the floor
 * (N-1 lines; the relays' p99), as an SVG drawn by Apache ECharts' server-side renderer (no DOM, no
 * browser: `renderer: 'svg', ssr: true`, https://echarts.apache.org/handbook/en/how-to/cross-platform/server).
 */
import * as echarts from 'echarts';
import type { ScaleResult } from './scenarios/scale.js';

const WIDTH = 960;
const HEIGHT = 420;

type Point = [number, number];

/** Colours that stay apart on white (ECharts' default palette). */
const PALETTE = [
  '#5470c6',
  '#91cc75',
  '#fac858',
  '#ee6666',
  '#73c0de',
  '#3ba272',
  '#fc8452',
  '#9a60b4',
  '#ea7ccc',
  '#555555',
];

/** The SVG text of the plot of `result`. */
export function scalePlotSvg(result: ScaleResult, title: string): string {
  const kinds = [...new Set(result.shapes.map((s) => s.kind))];
  const modes = [...new Set(result.shapes.flatMap((s) => s.modes.map((m) => m.dissemination)))];
  const series: echarts.SeriesOption[] = [];
  // One colour per name, the same in both panels (ECharts would colour by series index).
  const colours = new Map<string, string>();
  const line = (name: string, xAxisIndex: number, data: Point[], dashed = false): void => {
    let color = colours.get(name);
    if (color === undefined) colours.set(name, (color = PALETTE[colours.size % PALETTE.length] as string));
    series.push({
      color,
      name,
      type: 'line',
      xAxisIndex,
      yAxisIndex: xAxisIndex,
      data: data.sort((a, b) => a[0] - b[0]),
      symbolSize: 7,
      lineStyle: dashed ? { type: 'dashed' } : {},
    });
  };
  for (const kind of kinds) {
    const shapes = result.shapes.filter((s) => s.kind === kind);
    for (const mode of modes) {
      const of = (pick: (m: (typeof shapes)[number]['modes'][number]) => number): Point[] =>
        shapes.flatMap((s) => s.modes.filter((m) => m.dissemination === mode).map((m): Point => [s.servers, pick(m)]));
      line(
        `${kind} ${mode}`,
        0,
        of((m) => m.far.p99_ms),
      );
      line(
        `${kind} ${mode}`,
        1,
        of((m) => m.lines_per_update),
      );
    }
    line(
      `${kind} floor`,
      0,
      shapes.map((s): Point => [s.servers, s.floor.far.p99_ms]),
      true,
    );
  }
  line('floor N-1', 1, [...new Map(result.shapes.map((s) => [s.servers, s.servers - 1]))], true);
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { bottom: 0, type: 'plain', textStyle: { fontSize: 11 } },
    grid: [
      { left: 60, right: WIDTH / 2 + 30, top: 60, bottom: 90 },
      { left: WIDTH / 2 + 60, right: 30, top: 60, bottom: 90 },
    ],
    xAxis: [
      { type: 'value', gridIndex: 0, name: 'servers', nameLocation: 'middle', nameGap: 25 },
      { type: 'value', gridIndex: 1, name: 'servers', nameLocation: 'middle', nameGap: 25 },
    ],
    yAxis: [
      { type: 'log', gridIndex: 0, name: 'far-side p99, ms' },
      { type: 'log', gridIndex: 1, name: 'link lines per update' },
    ],
    series,
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return `${svg}\n`;
}
