/**
 * The dashboard's client view (`GET /client?id=&radius=&limit=`, docs/observability.md "Dashboard"):
 * one client's AT line and the places a WHATSAT for it would answer, through the server's own
 * WHATSAT look-up (so it counts as one), at most `dashboard.maxLookupsInFlight` at a time.
 */
import type { Logger } from '../observability/logger.js';
import type { NearbySearchResponse } from '../places/provider.js';
import { MAX_BOUND, MAX_RADIUS_KM, whatsatBound, whatsatRadiusKm } from '../protocol/commands.js';
import { binaryOfText, textOfBinary } from '../protocol/bytes.js';
import type { PlacesJson } from '../server/places-lookup.js';
import { toCheckin } from './feed.js';

/** What the client view needs of its server. */
export interface LookupServer {
  readonly store: { atLineOf(clientId: string): string | undefined };
  /** The look-up WHATSAT makes for the client of `atLine`, answered as the document WHATSAT prints. */
  lookUpPlaces(atLine: string, radiusMeters: number, limit: number): Promise<PlacesJson>;
}

/** An answer to `/client`: its HTTP status and JSON body. */
export interface LookupAnswer {
  readonly status: number;
  readonly value: unknown;
}

/** The `/client` route's look-ups, bounded in number. */
export class ClientLookups {
  private inFlight = 0;

  /** @param maxInFlight - `dashboard.maxLookupsInFlight`. */
  constructor(
    private readonly maxInFlight: number,
    private readonly log: Logger,
  ) {}

  /**
   * Answers `/client` with `params` (`id`, `radius` km as in WHATSAT, default 10; `limit`, default
   * {@link MAX_BOUND}): 200 with the client's check-in, AT line and places; 400 for a bad query; 404
   * for a client id this server has not heard of; 503 when `maxInFlight` look-ups are running.
   *
   * @throws (rejects with) what the look-up threw.
   */
  async answer(server: LookupServer, params: URLSearchParams): Promise<LookupAnswer> {
    const id = params.get('id');
    const radiusKm = whatsatRadiusKm(params.get('radius') ?? '10');
    const limit = whatsatBound(params.get('limit') ?? String(MAX_BOUND));
    if (id === null || id === '') return { status: 400, value: { error: 'id is required' } };
    if (radiusKm === undefined)
      return { status: 400, value: { error: `radius must be in (0, ${MAX_RADIUS_KM}] km, as in WHATSAT` } };
    if (limit === undefined)
      return { status: 400, value: { error: `limit must be an integer in [1, ${MAX_BOUND}], as in WHATSAT` } };
    // The page sends the id as text; the store knows it by its UTF-8 bytes.
    const atLine = server.store.atLineOf(binaryOfText(id));
    if (atLine === undefined) {
      return { status: 404, value: { error: 'no server of the herd has told this one of that client id' } };
    }
    if (this.inFlight >= this.maxInFlight) {
      this.log.warn(
        { event: 'dashboard-busy', what: 'places' },
        'dashboard places look-up refused: too many in flight',
      );
      return {
        status: 503,
        value: { error: `busy: ${this.inFlight} look-ups in flight (dashboard.maxLookupsInFlight)` },
      };
    }
    this.inFlight++;
    let answer: PlacesJson;
    try {
      answer = await server.lookUpPlaces(atLine, radiusKm * 1000, limit);
    } finally {
      this.inFlight--;
    }
    // The very document a WHATSAT would print, read back for the page.
    const places = JSON.parse(answer.body.toString('utf8')) as NearbySearchResponse;
    this.log.info(
      { event: 'dashboard-lookup', clientId: id, radiusKm, limit, places: answer.places },
      `dashboard client view: places ${answer.places.status} (${answer.places.results})`,
    );
    const checkin = toCheckin({ atLine, clientId: binaryOfText(id) });
    return { status: 200, value: { ...checkin, atLine: textOfBinary(atLine), radiusKm, limit, places } };
  }
}
