/**
 * Scenario 1, floor: the load generator against a bare line-echo server in its own process
 * (bench/echo-server.ts), same request lines as the iamat scenario. What the client, the loopback
 * and one Node process per side can do at best on this box; every other figure is given as a ratio
 * to it.
 */
import type { BenchContext } from '../bench-context.js';
import { startEchoProcess } from '../bench-processes.js';
import { iamatWriter } from '../request-writers.js';
import { measureThroughput, type ThroughputFigure } from './throughput.js';

/** Lines per second (and latency) at W=1 and W=16. */
export interface FloorResult {
  readonly w1: ThroughputFigure;
  readonly w16: ThroughputFigure;
}

/** Runs the floor scenario. */
export async function runFloor(context: BenchContext): Promise<FloorResult> {
  const echo = await startEchoProcess();
  try {
    const writer = iamatWriter({ prefix: 'client', clients: 10_000 });
    const w1 = await measureThroughput(context, 'floor W=1', { targets: [echo.target], window: 1, writer });
    const w16 = await measureThroughput(context, 'floor W=16', { targets: [echo.target], window: 16, writer });
    return { w1, w16 };
  } finally {
    await echo.process.stop();
  }
}
