/**
 * The anti-entropy messages of a link, as pure format and parse functions (docs/protocol.md
 * "Anti-entropy"; the exchange itself is src/peers/anti-entropy.ts). On the dialler's connection,
 * whenever the link comes up and then periodically, the dialler offers its digest and the neighbour
 * asks for the buckets where the two differ:
 *
 *     dialler -> neighbour   SYNC <sync id> <buckets>
 *     dialler -> neighbour   SUMS <sync id> <first bucket> <16 hex digits> ...   (up to 128 per line)
 *     dialler -> neighbour   SUMS-END <sync id>
 *     neighbour -> dialler   WANT <sync id> <bucket> ...                         (up to 256 per line)
 *     neighbour -> dialler   WANT-END <sync id>
 *     dialler -> neighbour   AT ... (every record of the wanted buckets), then SYNCED <sync id> <records>
 */

/** Bucket sums per SUMS line. */
export const SUMS_PER_LINE = 128;
/** Bucket numbers per WANT line. */
export const WANTS_PER_LINE = 256;

/** Formats a digest as `SYNC`, `SUMS` and `SUMS-END` lines, without terminators. */
export function formatDigestLines(
  syncId: number,
  digest: { buckets: number; high: Uint32Array; low: Uint32Array },
): string[] {
  const lines = [`SYNC ${syncId} ${digest.buckets}`];
  for (let start = 0; start < digest.buckets; start += SUMS_PER_LINE) {
    const end = Math.min(digest.buckets, start + SUMS_PER_LINE);
    const parts: string[] = ['SUMS', String(syncId), String(start)];
    for (let i = start; i < end; i++) {
      parts.push(
        (digest.high[i] as number).toString(16).padStart(8, '0') +
          (digest.low[i] as number).toString(16).padStart(8, '0'),
      );
    }
    lines.push(parts.join(' '));
  }
  lines.push(`SUMS-END ${syncId}`);
  return lines;
}

/** Formats the WANT reply to a digest: `WANT` lines and `WANT-END`, without terminators. */
export function formatWantLines(syncId: number, wanted: readonly number[]): string[] {
  const lines: string[] = [];
  for (let start = 0; start < wanted.length; start += WANTS_PER_LINE) {
    lines.push(`WANT ${syncId} ${wanted.slice(start, start + WANTS_PER_LINE).join(' ')}`);
  }
  lines.push(`WANT-END ${syncId}`);
  return lines;
}

/** Any anti-entropy message, parsed. */
export type SyncMessage =
  | { readonly type: 'SYNC'; readonly syncId: number; readonly buckets: number }
  | {
      readonly type: 'SUMS';
      readonly syncId: number;
      readonly start: number;
      readonly high: number[];
      readonly low: number[];
    }
  | { readonly type: 'SUMS-END'; readonly syncId: number }
  | { readonly type: 'WANT'; readonly syncId: number; readonly buckets: number[] }
  | { readonly type: 'WANT-END'; readonly syncId: number }
  | { readonly type: 'SYNCED'; readonly syncId: number; readonly records: number };

const UINT = /^\d{1,10}$/;
const HEX16 = /^[0-9a-f]{16}$/;

function uint(text: string | undefined): number | undefined {
  return text !== undefined && UINT.test(text) ? Number(text) : undefined;
}

/**
 * Parses an anti-entropy line.
 *
 * @returns the message, or `undefined` when the line is not a well-formed one (bucket counts must be
 *   powers of two up to 65,536).
 */
export function parseSyncMessage(fields: readonly string[]): SyncMessage | undefined {
  const syncId = uint(fields[1]);
  if (syncId === undefined) return undefined;
  switch (fields[0]) {
    case 'SYNC': {
      const buckets = uint(fields[2]);
      if (
        fields.length !== 3 ||
        buckets === undefined ||
        buckets < 1 ||
        buckets > 65536 ||
        (buckets & (buckets - 1)) !== 0
      )
        return undefined;
      return { type: 'SYNC', syncId, buckets };
    }
    case 'SUMS': {
      const start = uint(fields[2]);
      if (start === undefined || fields.length < 4) return undefined;
      const high: number[] = [];
      const low: number[] = [];
      for (let i = 3; i < fields.length; i++) {
        const hex = fields[i] as string;
        if (!HEX16.test(hex)) return undefined;
        high.push(Number.parseInt(hex.slice(0, 8), 16));
        low.push(Number.parseInt(hex.slice(8), 16));
      }
      return { type: 'SUMS', syncId, start, high, low };
    }
    case 'WANT': {
      const buckets: number[] = [];
      for (let i = 2; i < fields.length; i++) {
        const bucket = uint(fields[i]);
        if (bucket === undefined) return undefined;
        buckets.push(bucket);
      }
      return { type: 'WANT', syncId, buckets };
    }
    case 'SUMS-END':
    case 'WANT-END':
      return fields.length === 2 ? { type: fields[0], syncId } : undefined;
    case 'SYNCED': {
      const records = uint(fields[2]);
      return fields.length === 3 && records !== undefined ? { type: 'SYNCED', syncId, records } : undefined;
    }
    default:
      return undefined;
  }
}
