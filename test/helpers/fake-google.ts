/**
 * A fake Google Places for the end-to-end tests of the Google sources: a real loopback
 * `http.createServer` that checks every request (method, path, query or body, headers, key, field
 * mask) against what the reference (docs/places.md) says each API takes, and answers with scripted
 * responders (recorded-shape documents, HTTP errors, a hang, a reset).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_API_KEY } from './google-fixtures.js';

/**
 * The field mask the fake insists on, written out from the reference (section 3.6, "faithful legacy
 * shape"), not taken from the code under test.
 */
export const ENTERPRISE_FIELD_MASK =
  'places.id,places.displayName,places.location,places.viewport,places.types,places.shortFormattedAddress,places.businessStatus,places.plusCode,places.iconMaskBaseUri,places.iconBackgroundColor,places.photos,places.attributions,places.rating,places.userRatingCount,places.priceLevel,places.currentOpeningHours.openNow';
/** What the fake expects in every request: the IAMAT location (of {@link IAMAT} in google-rig.ts) rounded to 6 decimals. */
export const EXPECTED_LOCATION = { latitude: 34.06893, longitude: -118.445127 };

export type Api = 'legacy' | 'new';

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** How the fake answers one request. */
export type Responder = (
  request: FakeRequest,
  res: http.ServerResponse,
  req: http.IncomingMessage,
) => void | Promise<void>;
/** A responder that answers at once (so calling it from another responder needs no await). */
export type ImmediateResponder = (request: FakeRequest, res: http.ServerResponse, req: http.IncomingMessage) => void;

export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): ImmediateResponder =>
  (_request, res) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(body, null, 3));
  };
export const text =
  (status: number, body: string, contentType = 'text/html; charset=UTF-8'): ImmediateResponder =>
  (_request, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  };
/** Accepts the request and never answers (the connection is torn down in `close`). */
export const hang: Responder = () => undefined;
/** Drops the connection without a response. */
export const reset: Responder = (_request, _res, req) => {
  req.socket.destroy();
};

/** What a request must carry, besides the fixed parts of its API. */
export interface Expectation {
  radiusMeters: number;
  limit: number;
}

export class FakeGoogle {
  readonly requests: FakeRequest[] = [];
  readonly problems: string[] = [];
  private script: Responder[] = [];
  private expectation: Expectation = { radiusMeters: 0, limit: 0 };

  private constructor(
    readonly api: Api,
    readonly prefix: string,
    private readonly server: http.Server,
  ) {}

  static async start(api: Api, prefix: string): Promise<FakeGoogle> {
    // Requests arrive only after listen(), when `fake` is set.
    const server = http.createServer((req, res) => void fake.handle(req, res));
    const fake = new FakeGoogle(api, prefix, server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The base URL to configure: scheme, host, port and path prefix. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.prefix}`;
  }

  /** Sets the answers to the next requests, in order, and what they must ask for; clears the record. */
  answer(expectation: Expectation, ...responders: Responder[]): void {
    this.expectation = expectation;
    this.script = responders;
    this.requests.length = 0;
    this.problems.length = 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const request: FakeRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(request);
    const problems = this.api === 'legacy' ? this.checkLegacy(request) : this.checkNew(request);
    if (problems.length > 0) {
      this.problems.push(...problems);
      json(400, { error: { code: 400, message: `fake Google: ${problems.join('; ')}`, status: 'INVALID_ARGUMENT' } })(
        request,
        res,
        req,
      );
      return;
    }
    const responder = this.script.shift();
    if (responder === undefined) {
      this.problems.push(`unexpected request #${this.requests.length}`);
      text(599, 'no scripted answer')(request, res, req);
      return;
    }
    await responder(request, res, req);
  }

  private checkLegacy(request: FakeRequest): string[] {
    const problems: string[] = [];
    if (request.method !== 'GET') problems.push(`method ${request.method}`);
    if (request.path !== `${this.prefix}/maps/api/place/nearbysearch/json`) problems.push(`path ${request.path}`);
    const expected = [
      ['location', `${EXPECTED_LOCATION.latitude},${EXPECTED_LOCATION.longitude}`],
      ['radius', String(this.expectation.radiusMeters)],
      ['key', TEST_API_KEY],
    ];
    if (JSON.stringify([...request.query]) !== JSON.stringify(expected))
      problems.push(`query ${request.query.toString().replace(TEST_API_KEY, 'KEY')}`);
    if (request.body !== '') problems.push('a GET with a body');
    if (request.headers['x-goog-api-key'] !== undefined)
      problems.push('legacy takes the key in the query, not a header');
    return problems;
  }

  private checkNew(request: FakeRequest): string[] {
    const problems: string[] = [];
    if (request.method !== 'POST') problems.push(`method ${request.method}`);
    if (request.path !== `${this.prefix}/v1/places:searchNearby`) problems.push(`path ${request.path}`);
    if ([...request.query].length > 0) problems.push('a query string (the key goes in a header)');
    if (request.headers['x-goog-api-key'] !== TEST_API_KEY) problems.push('X-Goog-Api-Key missing or wrong');
    if (request.headers['x-goog-fieldmask'] !== ENTERPRISE_FIELD_MASK)
      problems.push(`X-Goog-FieldMask ${String(request.headers['x-goog-fieldmask'])}`);
    if (!String(request.headers['content-type']).startsWith('application/json'))
      problems.push(`Content-Type ${String(request.headers['content-type'])}`);
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      problems.push('body is not JSON');
    }
    const expected = {
      maxResultCount: this.expectation.limit,
      locationRestriction: { circle: { center: EXPECTED_LOCATION, radius: this.expectation.radiusMeters } },
    };
    if (body !== undefined && JSON.stringify(body) !== JSON.stringify(expected)) problems.push(`body ${request.body}`);
    return problems;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
