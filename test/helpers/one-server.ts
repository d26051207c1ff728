/**
 * The in-process fixtures most tests share: places sources the test controls, and a one-server herd
 * (`Solo` on 127.0.0.1, client and peer ports 0, no neighbours, a silent logger) that is closed
 * whatever the test body does.
 */
import { silentLogger } from '../../src/observability/logger.js';
import type { LatLng } from '../../src/protocol/location.js';
import type { NearbySearchResponse, PlacesProvider } from '../../src/places/provider.js';
import { HerdServer, type HerdServerOptions, type ListeningAddresses } from '../../src/server/herd-server.js';

/** A Nearby Search response with no results (legacy status `ZERO_RESULTS`), new each call. */
export function zeroResults(): NearbySearchResponse {
  return { html_attributions: [], results: [], status: 'ZERO_RESULTS' };
}

/** A places source that answers every look-up at once with {@link zeroResults}. */
export const zeroResultsPlaces: PlacesProvider = { source: 'test', nearby: async () => zeroResults() };

/** One look-up a {@link ScriptedPlaces} was asked for. */
export interface PlacesCall {
  location: LatLng;
  radiusMeters: number;
  limit: number;
}

/**
 * One place 0.01 degrees north of the asked point, named `Place within <radius> m`: the default
 * answer of {@link ScriptedPlaces}.
 */
export function onePlaceNear(call: PlacesCall): NearbySearchResponse {
  const { location, radiusMeters } = call;
  return {
    html_attributions: [],
    results: [
      {
        geometry: { location: { lat: location.latitude + 0.01, lng: location.longitude } },
        name: `Place within ${radiusMeters} m`,
        place_id: 'p1',
        types: ['locality'],
      },
    ],
    status: 'OK',
  };
}

/**
 * A places source whose answers the test controls: it records every look-up in `asked`, waits for
 * `hold` while it is set (a slow source), throws while `fail` is set (a source that is down), and
 * otherwise answers with `answer` (@default {@link onePlaceNear}).
 */
export class ScriptedPlaces implements PlacesProvider {
  readonly source = 'scripted';
  readonly asked: PlacesCall[] = [];
  /** While set, every look-up waits for it. */
  hold: Promise<void> | undefined;
  /** While true, every look-up rejects with `upstream down`. */
  fail = false;

  /** @param answer - the answer to a look-up, given it and how many were asked so far (1 for the first). */
  constructor(
    private readonly answer: (
      call: PlacesCall,
      count: number,
    ) => NearbySearchResponse | Promise<NearbySearchResponse> = onePlaceNear,
  ) {}

  async nearby(location: LatLng, radiusMeters: number, limit: number): Promise<NearbySearchResponse> {
    const call = { location, radiusMeters, limit };
    this.asked.push(call);
    if (this.hold !== undefined) await this.hold;
    if (this.fail) throw new Error('upstream down');
    return this.answer(call, this.asked.length);
  }

  /** Holds every look-up from now on until the returned function is called. */
  gate(): () => void {
    let release: () => void = () => undefined;
    this.hold = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.hold = undefined;
      release();
    };
  }
}

/**
 * The options of a one-server herd, with `options` on top: name `Solo`, 127.0.0.1 port 0 (and peer
 * port 0), no neighbours, {@link zeroResultsPlaces}, a silent logger.
 */
export function soloOptions(options: Partial<HerdServerOptions> = {}): HerdServerOptions {
  return {
    name: 'Solo',
    host: '127.0.0.1',
    port: 0,
    neighbours: [],
    places: zeroResultsPlaces,
    logger: silentLogger(),
    ...options,
  };
}

/** A listening in-process server and its ports. */
export interface ListeningServer {
  readonly server: HerdServer;
  /** The client port. */
  readonly port: number;
  readonly peerPort: number;
  close(): Promise<void>;
}

/** Starts a server with {@link soloOptions}(`options`) and resolves once it listens. */
export async function startServer(options: Partial<HerdServerOptions> = {}): Promise<ListeningServer> {
  const server = new HerdServer(soloOptions(options));
  const { client, peer } = await server.listen();
  return { server, port: client.port, peerPort: peer.port, close: () => server.close() };
}

/** Runs `body` against a server started with {@link startServer}(`options`), and closes it after. */
export async function withServer(
  options: Partial<HerdServerOptions>,
  body: (server: HerdServer, port: number, peerPort: number) => Promise<void>,
): Promise<void> {
  const solo = await startServer(options);
  try {
    await body(solo.server, solo.port, solo.peerPort);
  } finally {
    await solo.close();
  }
}

/**
 * Starts two servers that name each other as neighbours and tells each where the other's peer port
 * is (127.0.0.1).
 *
 * @returns where each listens, and their client ports.
 */
export async function linkPair(
  a: HerdServer,
  b: HerdServer,
): Promise<{ listeningA: ListeningAddresses; listeningB: ListeningAddresses; portA: number; portB: number }> {
  const listeningA = await a.listen();
  const listeningB = await b.listen();
  a.setPeerAddress(b.name, { host: '127.0.0.1', port: listeningB.peer.port });
  b.setPeerAddress(a.name, { host: '127.0.0.1', port: listeningA.peer.port });
  return { listeningA, listeningB, portA: listeningA.client.port, portB: listeningB.client.port };
}
