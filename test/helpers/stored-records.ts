/** Every valid row of a durable store, read page by page as the server's restore reads them. */
import type { LocationUpdate } from '../../src/store/location-store.js';
import type { RowKey, StoredRows } from '../../src/store/sqlite-open.js';

export function storedRecords(rows: StoredRows, pageRows = 100): LocationUpdate[] {
  const records: LocationUpdate[] = [];
  let after: RowKey | undefined;
  do {
    const page = rows.page(after, pageRows);
    records.push(...page.records);
    after = page.next;
  } while (after !== undefined);
  return records;
}
