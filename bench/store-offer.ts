/**
 * The location store's own cost, in process: `LocationStore.offer` of new clients into a table of
 * `clients`, then of a newer line for held clients picked at random, nanoseconds per offer, in
 * rounds (each on a new store). No socket, no log, no durable store: the table and its digest alone
 * (docs/benchmarks.md "The location table without a `Map` (2026-12-04)"). Not a scenario of
 * `npm run bench`; to compare builds, run it in each build's folder.
 *
 *     node --import tsx bench/store-offer.ts [clients] [rounds]
 */
import { checkAtLine, type AtRecord } from '../src/protocol/at-record.js';
import { LocationStore } from '../src/store/location-store.js';
import { median } from './median.js';

/** Offers timed per figure and round. */
const TIMED_OFFERS = 100_000;

/** The AT line of client `n` at client time `seconds` (as the cost scenario's floods look). */
function recordOf(n: number, seconds: number): AtRecord {
  const record = checkAtLine(`AT Solo +0.000123456 store-offer-${n} +34.068930-118.445127 ${seconds}.${n}`);
  if (record === undefined) throw new Error(`not an AT line: client ${n}`);
  return record;
}

/**
 * Offers `records` into `store` one at a time, timing each: nanoseconds per offer over them all,
 * and the longest single offer, in milliseconds (what one offer held the event loop for).
 */
function timeEach(store: LocationStore, records: readonly AtRecord[]): { ns: number; longestMs: number } {
  let longest = 0n;
  const started = process.hrtime.bigint();
  for (const record of records) {
    const before = process.hrtime.bigint();
    store.offer(record);
    const took = process.hrtime.bigint() - before;
    if (took > longest) longest = took;
  }
  return { ns: Number(process.hrtime.bigint() - started) / records.length, longestMs: Number(longest) / 1e6 };
}

/** Nanoseconds per offer of `records` into `store`. */
function timeOffers(store: LocationStore, records: readonly AtRecord[]): number {
  const started = process.hrtime.bigint();
  for (const record of records) store.offer(record);
  return Number(process.hrtime.bigint() - started) / records.length;
}

function main(): void {
  const clients = Number(process.argv[2] ?? 400_000);
  const rounds = Number(process.argv[3] ?? 3);
  if (!Number.isInteger(clients) || clients < 1 || !Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('usage: node --import tsx bench/store-offer.ts [clients >= 1] [rounds >= 1]\n');
    process.exitCode = 2;
    return;
  }
  const held = Array.from({ length: clients }, (_, n) => recordOf(n, 1_700_000_000));
  const fresh = Array.from({ length: TIMED_OFFERS }, (_, n) => recordOf(clients + n, 1_700_000_000));
  // A prime stride visits held clients all over the table, as updates from many clients do.
  const updates = Array.from({ length: TIMED_OFFERS }, (_, n) => recordOf((n * 7_919) % clients, 1_700_000_001));
  const fillNs: number[] = [];
  const longestMs: number[] = [];
  const newNs: number[] = [];
  const updateNs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const store = new LocationStore();
    const fill = timeEach(store, held);
    fillNs.push(fill.ns);
    longestMs.push(fill.longestMs);
    newNs.push(timeOffers(store, fresh));
    updateNs.push(timeOffers(store, updates));
  }
  const line = (values: number[], unit = 'ns', digits = 0): string =>
    `${median(values).toFixed(digits)} ${unit} (rounds ${values.map((value) => value.toFixed(digits)).join(', ')})`;
  process.stdout.write(`offer into a table of ${clients.toLocaleString('en-US')} clients, ${rounds} rounds\n`);
  process.stdout.write(`  filling it, every growth in: ${line(fillNs)} a client (timed one by one)\n`);
  process.stdout.write(`  the longest single offer:    ${line(longestMs, 'ms', 1)}\n`);
  process.stdout.write(`  a new client:               ${line(newNs)}\n`);
  process.stdout.write(`  a newer line of a held one: ${line(updateNs)}\n`);
}

main();
