/**
 * Request lines of the load generator, written straight into a send buffer as ASCII: no string is
 * built per request (no per-message allocations that can be avoided). Each request is named by
 * a tag, a sequence number the {@link LoadClient} hands out, so a writer can make client ids and
 * times unique without keeping state.
 */

/** Writes request lines into a buffer. */
export interface RequestWriter {
  /** Upper bound of the bytes of one line, terminator included. */
  readonly maxLineBytes: number;
  /**
   * Writes the request for `tag` (a non-negative integer below 1e9) at `offset`.
   *
   * @returns the offset just past the line's LF.
   */
  write(buffer: Buffer, offset: number, tag: number): number;
}

/** Writes `text` (ASCII) at `offset`; returns the offset after it. */
function writeAscii(buffer: Buffer, offset: number, text: string): number {
  return offset + buffer.write(text, offset, 'latin1');
}

/** Writes `n` (a non-negative integer below 2^53) in decimal; returns the offset after it. */
export function writeDecimal(buffer: Buffer, offset: number, n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = n;
  for (let i = offset + digits - 1; i >= offset; i--) {
    buffer[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return offset + digits;
}

/** Writes `n` (0 <= n < 1e9) as exactly nine decimal digits; returns the offset after them. */
function writeNineDigits(buffer: Buffer, offset: number, n: number): number {
  let rest = n;
  for (let i = offset + 8; i >= offset; i--) {
    buffer[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return offset + 9;
}

/** What {@link iamatWriter} writes. */
export interface IamatWriterOptions {
  /** Client ids are this prefix and a number. */
  readonly prefix: string;
  /**
   * Client ids cycle through this many numbers (`tag % clients`), each check-in with a later time;
   * omit for one distinct client per tag (`<prefix><tag>`).
   */
  readonly clients?: number;
  /** The location, ISO 6709. @default '+34.068930-118.445127' (UCLA) */
  readonly location?: string;
  /** Locations (ISO 6709) to take in turn, `locations[tag % length]`, instead of one `location`. */
  readonly locations?: readonly string[];
  /** Whole POSIX seconds of every time; the tag is the nine-digit fraction. @default an hour ago */
  readonly baseSeconds?: number;
}

/**
 * `IAMAT <prefix><n> <location> <base>.<tag as nine digits>`: with `clients`, n = tag % clients, so
 * each client checks in again with a later time (every IAMAT is stored, persisted and flooded, the
 * product's full path); without, n = tag (one new client per request).
 */
export function iamatWriter(options: IamatWriterOptions): RequestWriter {
  const head = `IAMAT ${options.prefix}`;
  // An hour in the past: well inside the server's future-skew bound whatever the tag.
  const time = ` ${options.baseSeconds ?? Math.floor(Date.now() / 1000) - 3600}.`;
  const tails = (options.locations ?? [options.location ?? '+34.068930-118.445127']).map(
    (location) => ` ${location}${time}`,
  );
  const clients = options.clients;
  return {
    maxLineBytes: head.length + Math.max(...tails.map((tail) => tail.length)) + 16 + 9 + 1,
    write(buffer, offset, tag) {
      let at = writeAscii(buffer, offset, head);
      at = writeDecimal(buffer, at, clients === undefined ? tag : tag % clients);
      at = writeAscii(buffer, at, tails[tag % tails.length] as string);
      at = writeNineDigits(buffer, at, tag);
      buffer[at] = 0x0a;
      return at + 1;
    },
  };
}

/** `WHATSAT <prefix><tag % clients> <radiusKm> <bound>`. */
export function whatsatWriter(options: {
  prefix: string;
  clients: number;
  radiusKm: number;
  bound: number;
}): RequestWriter {
  const head = `WHATSAT ${options.prefix}`;
  const tail = ` ${options.radiusKm} ${options.bound}\n`;
  return {
    maxLineBytes: head.length + tail.length + 16,
    write(buffer, offset, tag) {
      let at = writeAscii(buffer, offset, head);
      at = writeDecimal(buffer, at, tag % options.clients);
      return writeAscii(buffer, at, tail);
    },
  };
}
