/** Every valid row of a durable store, read page by page as the server's restore reads them. */
import type { AtRecord } from '../../src/protocol/at-record.js';
import type { RowKey, StoredRows } from '../../src/store/sqlite-open.js';

export function storedRecords(rows: StoredRows, pageRows = 100): AtRecord[] {
  const records: AtRecord[] = [];
  let after: RowKey | undefined;
  do {
    const page = rows.page(after, pageRows);
    records.push(...page.records);
    after = page.next;
  } while (after !== undefined);
  return records;
}
