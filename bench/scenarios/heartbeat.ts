/**
 * The cost of the failure detector on an idle link (scenario `heartbeat`): two servers
 * joined by one link (two TCP connections, one per flooding direction) start, link up, and then
 * nothing happens but heartbeats (anti-entropy is pushed out of the window). The kernel's counts of
 * one server's sockets to the other (`ss -tinp`) over the window cover both connections and both
 * directions, so they are the whole link's cost:
 *
 * - payload bytes/s: heartbeat lines, 10 bytes each (src/peers/failure-detector.ts);
 * - segments/s: heartbeats and their ACKs;
 * - estimated bytes/s on an Ethernet wire: payload plus {@link WIRE_HEADER_BYTES} per segment.
 */
import type { BenchContext } from '../bench-context.js';
import { BenchError, ScenarioSkipped } from '../bench-error.js';
import {
  benchDir,
  sleep,
  socketBytesOf,
  startHerdProcess,
  stopHerd,
  writeBenchConfig,
  type SocketBytes,
} from '../bench-processes.js';
import { DEFAULT_LINK_SETTINGS } from '../../src/peers/link-settings.js';

/**
 * Bytes of headers per TCP segment on Ethernet: 14 (Ethernet II) + 20 (IPv4) + 32 (TCP with the
 * timestamp option Linux uses by default). Loopback has no Ethernet header; the estimate is for a
 * real network.
 */
export const WIRE_HEADER_BYTES = 66;
/** Time given to the link to come up and its first anti-entropy to finish before counting, ms. */
export const HEARTBEAT_SETTLE_MS = 2000;

/** Heartbeat figures, as `--json` reports them. */
export interface HeartbeatResult {
  readonly window_s: number;
  readonly heartbeat_interval_ms: number;
  /** TCP payload of the link, both connections and both directions, bytes/s. */
  readonly payload_bytes_per_s_per_link: number;
  readonly segments_per_s_per_link: number;
  /** Payload plus {@link WIRE_HEADER_BYTES} per segment, bytes/s. */
  readonly wire_bytes_per_s_per_link: number;
}

function totals(sockets: readonly SocketBytes[]): { bytes: number; segments: number } {
  return sockets.reduce(
    (sum, socket) => ({
      bytes: sum.bytes + socket.sent + socket.received,
      segments: sum.segments + socket.segmentsOut + socket.segmentsIn,
    }),
    { bytes: 0, segments: 0 },
  );
}

/** Runs the heartbeat scenario (only on servers the bench starts: it needs an idle herd). */
export async function runHeartbeat(context: BenchContext): Promise<HeartbeatResult> {
  if (context.target !== undefined)
    throw new ScenarioSkipped('the heartbeat scenario needs an idle herd of its own, so it runs only without --config');
  const { dir, cleanup } = await benchDir();
  try {
    const configFile = await writeBenchConfig(dir, {
      servers: ['Alford', 'Ball'],
      links: [['Alford', 'Ball']],
      logLevel: context.logLevel,
      // One reconciliation at link-up, then none for an hour: only heartbeats cross the window.
      peer: { antiEntropyIntervalMs: 3_600_000 },
    });
    const herd = await startHerdProcess(configFile);
    try {
      const alford = herd.members.find((member) => member.name === 'Alford');
      const ball = herd.members.find((member) => member.name === 'Ball');
      if (alford === undefined || ball === undefined) throw new BenchError('the heartbeat herd did not start');
      context.progress.update('heartbeat: waiting for the link');
      await sleep(HEARTBEAT_SETTLE_MS);
      // Alford's sockets to Ball: its outgoing link (to Ball's peer port) and Ball's link to it.
      const link = async (): Promise<SocketBytes[]> =>
        (await socketBytesOf(alford.pid)).filter((s) => s.localPort !== alford.port);
      const before = await link();
      if (before.length < 2) throw new BenchError(`expected 2 link connections from Alford, found ${before.length}`);
      context.progress.update(`heartbeat: counting an idle link for ${context.sizes.heartbeatWindowMs} ms`);
      const startedAt = performance.now();
      await sleep(context.sizes.heartbeatWindowMs);
      const after = await link();
      const seconds = (performance.now() - startedAt) / 1000;
      const a = totals(before);
      const b = totals(after);
      const bytes = (b.bytes - a.bytes) / seconds;
      const segments = (b.segments - a.segments) / seconds;
      const round = (n: number): number => Math.round(n * 10) / 10;
      return {
        window_s: round(seconds),
        heartbeat_interval_ms: DEFAULT_LINK_SETTINGS.heartbeatIntervalMs,
        payload_bytes_per_s_per_link: round(bytes),
        segments_per_s_per_link: round(segments),
        wire_bytes_per_s_per_link: round(bytes + segments * WIRE_HEADER_BYTES),
      };
    } finally {
      await stopHerd(herd);
    }
  } finally {
    await cleanup();
  }
}
