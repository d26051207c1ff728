/**
 * What the test-bed scenarios (test/netns/*.test.ts) share: whether this machine can run them (and
 * the one line that says why not), a bed with a herd that is always torn down, a steady stream of
 * IAMATs that remembers what was acknowledged, and the checker that reads every server's table.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SERVERS, waitUntil } from '../helpers/herd-process.js';
import { BedHerd, type BedHerdOptions } from './bed-herd.js';
import { NetnsBed, whyNoNetns } from './network.js';
import { formatPosixTime } from '../../src/protocol/time.js';

/** Why the scenarios skip here (not root, no namespaces), or `undefined` when they run. */
export const NETNS_SKIP: string | undefined = await whyNoNetns();

/** The hosts of every scenario: the default herd's five servers, in a ring. */
export const HOSTS: readonly string[] = DEFAULT_SERVERS;

/*
 * The scenarios whose claims are about links and the network, not the disk (the flapping link, the
 * silent partition, the frozen neighbour, the skewed clocks), keep their tables in memory only
 * (MEMORY_STORE, test/helpers/herd-config-options.ts): committing every update to SQLite was a third
 * of those servers' CPU, and the store's own claims are the integration tests' (power-cut,
 * store.sync). The split keeps `store.sync`, and the host killed and restarted keeps its file.
 */
export { MEMORY_STORE } from '../helpers/herd-config-options.js';

/** Runs `body` with a fresh bed and herd; tears both down afterwards, whatever happened. */
export async function withBedHerd(
  options: BedHerdOptions,
  body: (herd: BedHerd, bed: NetnsBed) => Promise<void>,
): Promise<void> {
  const bed = await NetnsBed.create(HOSTS);
  try {
    const herd = await BedHerd.start(bed, options);
    try {
      await body(herd, bed);
    } catch (error) {
      // Keep the servers' own words next to the failure.
      throw new Error(`${(error as Error).message}\n--- server output ---\n${herd.output.slice(-30).join('\n')}`, {
        cause: error,
      });
    } finally {
      await herd.stop();
    }
  } finally {
    await bed.destroy();
  }
}

/** A client time for now on the test's clock, as a POSIX time with nine fractional digits. */
export function clientTime(offsetMs = 0): string {
  const ns = BigInt(Date.now() + offsetMs) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
  return formatPosixTime(ns);
}

/** An update a server acknowledged: the AT line it answered. */
export interface Acked {
  readonly clientId: string;
  readonly server: string;
  readonly atLine: string;
  /** `performance.now()` of the acknowledgement. */
  readonly atMs: number;
}

/**
 * A steady stream of IAMATs, one every `everyMs`, round-robin over `servers` (or the servers
 * {@link Traffic.targets} returns at each step), each for a new client id `<prefix><n>`. Only
 * acknowledged ones (an AT reply) count.
 */
export class Traffic {
  readonly acked: Acked[] = [];
  readonly failed: string[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(herd: BedHerd, options: { prefix: string; everyMs: number; targets: () => readonly string[] }) {
    this.done = (async () => {
      let n = 0;
      while (this.running) {
        const targets = options.targets();
        const server = targets[n % targets.length] as string;
        const clientId = `${options.prefix}${n++}`;
        const started = performance.now();
        try {
          const reply = await herd.client(server, `IAMAT ${clientId} +34.068930-118.445127 ${clientTime()}\n`);
          if (reply.startsWith('AT ')) {
            this.acked.push({ clientId, server, atLine: reply.trimEnd(), atMs: performance.now() });
          } else this.failed.push(`${server}: ${reply.trimEnd()}`);
        } catch (error) {
          this.failed.push(`${server}: ${(error as Error).message}`);
        }
        const wait = options.everyMs - (performance.now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
  }

  /** Stops sending; resolves when the last IAMAT is answered. */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** Which servers lack which of the client ids `asks` names for them, read now by WHATSAT. */
async function lackingOf(
  herd: BedHerd,
  expected: ReadonlyMap<string, string>,
  asks: ReadonlyMap<string, readonly string[]>,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [server, ids] of asks) {
    const table = await herd.table(server, ids);
    const lacking = ids.filter((id) => table.get(id) !== expected.get(id));
    if (lacking.length > 0) out.set(server, lacking);
  }
  return out;
}

/** Which servers lack which of `expected` (client id -> AT line), read now by WHATSAT. */
export function missing(
  herd: BedHerd,
  expected: ReadonlyMap<string, string>,
  servers: readonly string[] = HOSTS,
): Promise<Map<string, string[]>> {
  const ids = [...expected.keys()];
  return lackingOf(herd, expected, new Map(servers.map((server) => [server, ids])));
}

/**
 * Waits until every server holds exactly `expected`; returns how long it took, ms.
 *
 * Each look after the first asks a server only for what it lacked at the previous one (a server
 * replaces an update only with a newer client time, docs/protocol.md "Floods", and `expected` holds
 * the newest acknowledged), and the look that ends the wait asks every server for all of `expected`,
 * so the claim is still one whole read of every table.
 *
 * @throws (naming who lacks what) when it has not happened within `timeoutMs`.
 */
export async function converge(
  herd: BedHerd,
  expected: ReadonlyMap<string, string>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = performance.now();
  const all = [...expected.keys()];
  const everything = new Map(HOSTS.map((server) => [server, all]));
  let last: Map<string, readonly string[]> = everything;
  try {
    await waitUntil(
      async () => {
        for (;;) {
          const whole = last === everything;
          last = await lackingOf(herd, expected, last);
          if (last.size > 0) return false;
          if (whole) return true;
          // Every server had the rest: now the whole read, at once.
          last = everything;
        }
      },
      timeoutMs,
      what,
    );
  } catch (error) {
    const summary = [...last].map(
      ([server, ids]) => `${server} lacks ${ids.length} (${ids.slice(0, 3).join(', ')}...)`,
    );
    throw new Error(`${(error as Error).message}: ${summary.join('; ')}`, { cause: error });
  }
  return Math.round(performance.now() - started);
}

/** Waits until every link of every host is up both ways. */
export async function allLinksUp(herd: BedHerd): Promise<void> {
  await waitUntil(
    async () => {
      for (const name of HOSTS) {
        const status = await herd.status(name);
        if (!status.links.every((row) => row.status === 'up' && row.inbound)) return false;
      }
      return true;
    },
    15_000,
    'every link up both ways',
  );
}

/** The status of `server`'s outgoing link to `peer` (`up`, `backoff`, ...). */
export async function linkStatus(herd: BedHerd, server: string, peer: string): Promise<string | undefined> {
  const status = await herd.status(server);
  return status.links.find((row) => row.peer === peer)?.status;
}

/** Reports a measured figure in the test output (`# ...` lines) and returns it. */
export function report(t: TestContext, text: string): void {
  t.diagnostic(text);
  process.stderr.write(`[netns] ${t.name}: ${text}\n`);
}

/** Asserts a duration is within a bound, naming both. */
export function assertWithin(ms: number, boundMs: number, what: string): void {
  assert.ok(ms <= boundMs, `${what}: ${ms} ms, over the bound of ${boundMs} ms`);
}
