/**
 * Scenario 4, whatsat: one `herd serve` process with the offline places source (GeoNames,
 * src/places/geonames.ts), 300 clients checked in around Los Angeles, London and Tokyo, then
 * `WHATSAT <client> 10 20` from C connections with W=16: WHATSAT/s and latency. Each reply is the AT
 * line and a Nearby Search document of up to 20 places (several KB).
 */
import net from 'node:net';
import type { BenchContext } from '../bench-context.js';
import { BenchError } from '../bench-error.js';
import { benchDir, startServe, writeBenchConfig } from '../bench-processes.js';
import { formatIso6709 } from '../../src/protocol/location.js';
import { runLoad, type LoadResult, type LoadTarget } from '../load-client.js';
import { whatsatWriter, type RequestWriter } from '../request-writers.js';
import { measureThroughput, type ThroughputFigure } from './throughput.js';

/** Dense areas the clients stand in: latitude, longitude. */
export const DENSE_AREAS: readonly (readonly [number, number])[] = [
  [34.0522, -118.2437], // Los Angeles
  [51.5074, -0.1278], // London
  [35.6762, 139.6503], // Tokyo
];
/** Clients checked in before the WHATSATs (spread over {@link DENSE_AREAS}). */
export const WHATSAT_CLIENTS = 300;
/** Radius of every WHATSAT, km. */
export const WHATSAT_RADIUS_KM = 10;
/** Bound of every WHATSAT. */
export const WHATSAT_BOUND = 20;
/** Window of the WHATSAT load. */
export const WHATSAT_WINDOW = 16;
const PREFIX = 'whatsat-';

/** WHATSAT figures, as `--json` reports them. */
export interface WhatsatResult extends ThroughputFigure {
  /** Mean reply size, bytes. */
  readonly reply_bytes: number;
}

/** The WHATSATs of the scenario: for the clients {@link checkInDenseClients} checked in, radius {@link WHATSAT_RADIUS_KM}, bound {@link WHATSAT_BOUND}. */
function denseWhatsats(): RequestWriter {
  return whatsatWriter({ prefix: PREFIX, clients: WHATSAT_CLIENTS, radiusKm: WHATSAT_RADIUS_KM, bound: WHATSAT_BOUND });
}

/**
 * Sends `requests` WHATSATs for the clients {@link checkInDenseClients} checked in (radius
 * {@link WHATSAT_RADIUS_KM}, bound {@link WHATSAT_BOUND}) to `target` over `connections`
 * connections at W={@link WHATSAT_WINDOW}, and resolves when every reply is in.
 */
export function sendDenseWhatsats(target: LoadTarget, connections: number, requests: number): Promise<LoadResult> {
  return runLoad({
    targets: [target],
    connections,
    window: WHATSAT_WINDOW,
    writer: denseWhatsats(),
    framing: 'blank-line',
    requests,
  });
}

/**
 * Checks the clients in on one connection (pipelined), then asks one WHATSAT (which waits for the
 * places index), and returns that reply's size.
 */
export async function checkInDenseClients(target: LoadTarget): Promise<number> {
  const seconds = Math.floor(Date.now() / 1000) - 60;
  const lines: string[] = [];
  for (let i = 0; i < WHATSAT_CLIENTS; i++) {
    const [latitude, longitude] = DENSE_AREAS[i % DENSE_AREAS.length] as readonly [number, number];
    // Deterministic scatter of about +-5 km around the centre.
    const dLat = (((i * 7919) % 1000) / 1000 - 0.5) * 0.09;
    const dLng = (((i * 104729) % 1000) / 1000 - 0.5) * 0.09;
    lines.push(
      `IAMAT ${PREFIX}${i} ${formatIso6709(latitude + dLat, longitude + dLng)} ${seconds}.${String(i).padStart(9, '0')}\n`,
    );
  }
  lines.push(`WHATSAT ${PREFIX}0 ${WHATSAT_RADIUS_KM} ${WHATSAT_BOUND}\n`);
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.end(lines.join('')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) =>
      reject(new BenchError(`whatsat check-in failed: ${error.message}`, { cause: error })),
    );
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  const replies = reply.split('\n');
  const acknowledged = replies.filter((line) => line.startsWith('AT ')).length;
  if (acknowledged < WHATSAT_CLIENTS + 1 || !reply.includes('"status" : "OK"')) {
    throw new BenchError(
      `whatsat check-in: expected ${WHATSAT_CLIENTS} AT replies and an OK Nearby Search, got:\n${reply.slice(-500)}`,
    );
  }
  const whatsat = reply.slice(reply.lastIndexOf(`AT `, reply.indexOf('{')));
  return Buffer.byteLength(whatsat);
}

/** Runs the whatsat scenario on a server the bench starts, or on the first server of `--config`. */
export async function runWhatsat(context: BenchContext): Promise<WhatsatResult> {
  const measure = async (target: LoadTarget): Promise<WhatsatResult> => {
    const replyBytes = await checkInDenseClients(target);
    const figure = await measureThroughput(context, 'whatsat', {
      targets: [target],
      window: WHATSAT_WINDOW,
      writer: denseWhatsats(),
      framing: 'blank-line',
    });
    return { ...figure, reply_bytes: replyBytes };
  };
  const target = context.target;
  if (target !== undefined) {
    const server = target.servers[0];
    if (server === undefined) throw new BenchError(`${target.configFile} has no server to load`);
    return measure(server);
  }
  const { dir, cleanup } = await benchDir();
  try {
    const configFile = await writeBenchConfig(dir, { servers: ['Alford'], logLevel: context.logLevel });
    const server = await startServe(configFile, 'Alford', { nodeArgs: context.serverNodeArgs });
    try {
      return await measure(server);
    } finally {
      await server.process.stop();
    }
  } finally {
    await cleanup();
  }
}
