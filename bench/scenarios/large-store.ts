/**
 * A durable store of many clients written straight into SQLite for the startup scenario, through
 * the product's own table functions (src/store/sqlite-table.ts), in the order a server would hold
 * them: one AT line per client, as a flood would have brought it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { connect, prepareUpsert, SCHEMA } from '../../src/store/sqlite-table.js';
import { formatIso6709 } from '../../src/protocol/location.js';

/** Rows per transaction while writing. */
const BATCH_ROWS = 50_000;

/**
 * Writes `clients` clients `large-<n>` into a new store file.
 *
 * @returns `probes` client ids spread evenly over the store (first, last and between).
 */
export async function writeLargeStore(file: string, clients: number, probes: number): Promise<string[]> {
  await mkdir(path.dirname(file), { recursive: true });
  const db = connect(file, false);
  try {
    db.exec(SCHEMA);
    db.pragma('synchronous = OFF');
    const upsert = prepareUpsert(db);
    const seconds = Math.floor(Date.now() / 1000) - 3600;
    for (let from = 0; from < clients; from += BATCH_ROWS) {
      const rows: string[] = [];
      for (let i = from; i < Math.min(clients, from + BATCH_ROWS); i++) {
        const clientId = `large-${i}`;
        const location = formatIso6709(((i * 7919) % 170_000) / 1000 - 85, ((i * 104_729) % 350_000) / 1000 - 175);
        rows.push(
          clientId,
          `AT Alford +0.000123456 ${clientId} ${location} ${seconds + (i % 3600)}.${String(i % 1e9).padStart(9, '0')}`,
        );
      }
      upsert(rows);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return Array.from({ length: probes }, (_, k) => `large-${Math.round((k * (clients - 1)) / Math.max(1, probes - 1))}`);
}
