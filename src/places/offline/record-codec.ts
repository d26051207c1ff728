/**
 * One place's record in the `records` section of a data file: what a Nearby Search result shows
 * besides its location. Layout, little-endian:
 *
 * `u8 typeCount, u16 typeIndex × typeCount, u16 nameBytes, name, u16 placeIdBytes, placeId,
 * u16 vicinityBytes (0xFFFF: no vicinity), vicinity`, strings in UTF-8.
 */

/** The text fields of a place, its types as indices into the file's type table. */
export interface PlaceRecord {
  readonly name: string;
  readonly placeId: string;
  /** `undefined`: the result has no `vicinity`. */
  readonly vicinity: string | undefined;
  readonly typeIndices: readonly number[];
}

/** A decoded record, types resolved to names. */
export interface DecodedRecord {
  readonly name: string;
  readonly placeId: string;
  readonly vicinity: string | undefined;
  readonly types: readonly string[];
}

const NO_VICINITY = 0xffff;

/** Most bytes {@link encodeRecord} writes for a record with these fields. */
export function maxRecordBytes(record: PlaceRecord): number {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  return (
    1 +
    2 * record.typeIndices.length +
    6 +
    3 * (record.name.length + record.placeId.length + (record.vicinity?.length ?? 0))
  );
}

/**
 * Writes a record into `buffer` at `offset`, which must have {@link maxRecordBytes} bytes free.
 *
 * @returns the offset after the record. Strings must fit the format's `MAX_TEXT_BYTES`, and there are
 *   at most 255 types: the importers check both.
 */
export function encodeRecord(record: PlaceRecord, buffer: Buffer, offset: number): number {
  let at = buffer.writeUInt8(record.typeIndices.length, offset);
  for (const index of record.typeIndices) at = buffer.writeUInt16LE(index, at);
  const text = (value: string): void => {
    const bytes = buffer.write(value, at + 2, 'utf8');
    buffer.writeUInt16LE(bytes, at);
    at += 2 + bytes;
  };
  text(record.name);
  text(record.placeId);
  if (record.vicinity === undefined) at = buffer.writeUInt16LE(NO_VICINITY, at);
  else text(record.vicinity);
  return at;
}

/**
 * Reads the record that starts at `start` in `buffer`.
 *
 * @param types - the file's type table; an index outside it reads as `point_of_interest`.
 */
export function decodeRecord(buffer: Buffer, start: number, types: readonly string[]): DecodedRecord {
  const typeCount = buffer.readUInt8(start);
  let at = start + 1;
  const names = new Array<string>(typeCount);
  for (let i = 0; i < typeCount; i++) {
    names[i] = types[buffer.readUInt16LE(at)] ?? 'point_of_interest';
    at += 2;
  }
  const text = (): string => {
    const bytes = buffer.readUInt16LE(at);
    const value = buffer.toString('utf8', at + 2, at + 2 + bytes);
    at += 2 + bytes;
    return value;
  };
  const name = text();
  const placeId = text();
  const vicinity = buffer.readUInt16LE(at) === NO_VICINITY ? undefined : text();
  return { name, placeId, vicinity, types: names };
}
