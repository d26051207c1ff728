/**
 * The work of one heartbeat tick of tree dissemination at 1k/s, a tool to run by hand (not a
 * scenario of `npm run bench`); docs/benchmarks.md "Propagation at 1k/s: where the tail comes from (2026-12-03)".
 * The default herd's ring of five routers in memory (test/helpers/tree-sim.ts, no sockets), trees
 * formed, then simulated seconds of 1,000 updates (or the rate given) spread over the five origins,
 * each delivered everywhere before the next, and one tick a second. Prints all the routers' work a
 * second, the time of the tick (every router's announcements and their receivers' handling, all five
 * in this one process), of each update's delivery, and the lines a second.
 *
 *     node --import tsx bench/tree-tick.ts [seconds] [updates a second]
 */
import { seededRandom } from '../test/helpers/herd-process.js';
import { SimHerd } from '../test/helpers/tree-sim.js';

const NAMES = ['Alford', 'Hamilton', 'Holiday', 'Ball', 'Welsh'];
/** Simulated seconds left out of the figures (compilation, the trees forming). */
const WARM_SECONDS = 5;

const seconds = Number(process.argv[2] ?? 20);
const updatesPerSecond = Number(process.argv[3] ?? 1000);
const herd = new SimHerd({
  names: NAMES,
  links: NAMES.map((name, i) => [name, NAMES[(i + 1) % NAMES.length] as string]),
  random: seededRandom(3),
});
let time = 1_700_000_000;
let client = 0;
for (let round = 0; round < 5; round++) {
  for (const origin of NAMES) herd.iamat(origin, `warm-${origin}-${round}`, String(++time));
  herd.settle(1);
}
const updateMs: number[] = [];
const tickMs: number[] = [];
const before = { ...herd.delivered };
for (let second = 0; second < WARM_SECONDS + seconds; second++) {
  if (second === WARM_SECONDS) Object.assign(before, herd.delivered);
  for (let i = 0; i < updatesPerSecond; i++) {
    const started = performance.now();
    herd.iamat(NAMES[i % NAMES.length] as string, `h${client++}`, String(++time));
    herd.drain();
    if (second >= WARM_SECONDS) updateMs.push(performance.now() - started);
  }
  const started = performance.now();
  herd.tick();
  herd.drain();
  if (second >= WARM_SECONDS) tickMs.push(performance.now() - started);
}
const at = (values: number[], q: number): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number).toFixed(3);
};
const perSecond = (verb: keyof typeof before): number => Math.round((herd.delivered[verb] - before[verb]) / seconds);
const totalMs = updateMs.reduce((sum, ms) => sum + ms, 0) + tickMs.reduce((sum, ms) => sum + ms, 0);
process.stdout.write(
  `${updatesPerSecond} updates a second; all the routers' work, ms a second: ${(totalMs / seconds).toFixed(1)}\n` +
    `tick, ms: min ${at(tickMs, 0)}, median ${at(tickMs, 0.5)}, max ${at(tickMs, 1)}\n` +
    `update, ms: p50 ${at(updateMs, 0.5)}, p99 ${at(updateMs, 0.99)}, p99.9 ${at(updateMs, 0.999)}\n` +
    `lines a second: AT ${perSecond('AT')}, IHAVE ${perSecond('IHAVE')}, GRAFT ${perSecond('GRAFT')}, PRUNE ${perSecond('PRUNE')}\n`,
);
