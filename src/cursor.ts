/**
 * Page cursors: an opaque, URL-safe token for a position in insertion order, checked strictly
 * when it comes back (it may have been forged).
 *
 * @module
 */

import { decodeBase64Url, encodeBase64Url } from "./base64.ts";
import { ValidationError } from "./errors.ts";
import { validateId } from "./validation.ts";

/**
 * A position in insertion order: the exact insertion time (UTC, microseconds, as
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ`, with more year digits after 9999 and ` BC` before year 1, as
 * PostgreSQL reads them) and the id, which breaks ties.
 *
 * @example
 * ```ts
 * import type { CursorPosition } from "./cursor.ts";
 *
 * const position: CursorPosition = { insertedAt: "2026-12-01T08:00:00.123456Z", id: "order::1" };
 * ```
 */
export interface CursorPosition {
  /** The insertion time, ISO-8601 UTC with six fractional digits. */
  insertedAt: string;
  /** The id of the last item of the page. */
  id: string;
}

const TIME =
  /^(?<year>\d{4,6})-(?<month>\d\d)-(?<day>\d\d)T(?<hour>\d\d):(?<minute>\d\d):(?<second>\d\d)\.(?<micros>\d{6})Z(?<bc> BC)?$/;

/** The fields of a cursor time, as numbers. */
interface TimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  micros: number;
  bc: boolean;
}

/** The fields of a cursor time, or null when the text does not have its form. */
function timeFields(text: string): TimeFields | null {
  const groups = TIME.exec(text)?.groups;
  if (groups === undefined) return null;
  // Every group but `bc` is required by the pattern; a missing one would read as NaN.
  const field = (name: string): number => Number(groups[name] ?? NaN);
  return {
    year: field("year"),
    month: field("month"),
    day: field("day"),
    hour: field("hour"),
    minute: field("minute"),
    second: field("second"),
    micros: field("micros"),
    bc: groups.bc !== undefined,
  };
}

/** The Date of the whole seconds of a cursor time (proleptic Gregorian, UTC). */
function wholeSeconds(fields: TimeFields): Date {
  const date = new Date(0);
  date.setUTCFullYear(fields.bc ? 1 - fields.year : fields.year, fields.month - 1, fields.day);
  date.setUTCHours(fields.hour, fields.minute, fields.second, 0);
  return date;
}

/**
 * Turns a position into a cursor.
 *
 * @param position The last item's insertion time and id.
 * @returns The cursor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCursor } from "./cursor.ts";
 *
 * const cursor = encodeCursor({ insertedAt: "2026-12-01T08:00:00.123456Z", id: "a" });
 * assert.match(cursor, /^[\w-]+$/); // URL-safe base64
 * ```
 */
export function encodeCursor(position: CursorPosition): string {
  const bytes = new TextEncoder().encode(JSON.stringify([1, position.insertedAt, position.id]));
  return encodeBase64Url(bytes);
}

/**
 * Reads a cursor back.
 *
 * @param cursor A cursor from {@linkcode encodeCursor}, or anything a caller sent.
 * @returns The position.
 * @throws {ValidationError} When the cursor was not made by this module.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCursor, encodeCursor } from "./cursor.ts";
 *
 * const position = { insertedAt: "2026-12-01T08:00:00.123456Z", id: "a" };
 * assert.deepEqual(decodeCursor(encodeCursor(position)), position);
 * ```
 */
export function decodeCursor(cursor: string): CursorPosition {
  const refuse = (): never => {
    throw new ValidationError(
      `Invalid cursor: ${JSON.stringify(cursor.slice(0, 40))} is not a cursor this store made`,
    );
  };
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) refuse();
  let parsed: unknown;
  try {
    const bytes = decodeBase64Url(cursor);
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    refuse();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== 1) refuse();
  const [, insertedAt, id] = parsed as [number, unknown, unknown];
  if (typeof insertedAt !== "string" || !isValidTime(insertedAt)) refuse();
  try {
    return { insertedAt: insertedAt as string, id: validateId(id) };
  } catch {
    return refuse();
  }
}

/**
 * The earliest instant a timestamptz holds: 4714-11-24 00:00 UTC BC (Julian day 0), in epoch
 * milliseconds. The latest a cursor can name is the latest a Date holds (275760-09-13), which
 * PostgreSQL holds too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PG_MIN_MS } from "./cursor.ts";
 *
 * assert.equal(new Date(PG_MIN_MS).toISOString(), "-004713-11-24T00:00:00.000Z");
 * ```
 */
export const PG_MIN_MS = -210_866_803_200_000;
const MAX_DATE_MS = 8_640_000_000_000_000;

/**
 * Whether a cursor time names a real instant (no 30 February, no hour 25, no year 0) that both
 * a Date and PostgreSQL's timestamptz hold: the same refusal in every store.
 */
function isValidTime(text: string): boolean {
  const fields = timeFields(text);
  if (fields === null || fields.year === 0) return false;
  const date = wholeSeconds(fields);
  if (
    Number.isNaN(date.getTime()) || date.getUTCMonth() !== fields.month - 1 ||
    date.getUTCDate() !== fields.day || date.getUTCHours() !== fields.hour ||
    date.getUTCMinutes() !== fields.minute || date.getUTCSeconds() !== fields.second
  ) return false;
  const micros = cursorMicros(text);
  return micros >= BigInt(PG_MIN_MS) * 1000n && micros <= BigInt(MAX_DATE_MS) * 1000n;
}

/**
 * The instant a valid cursor time names, in epoch microseconds: cursor times compare by this,
 * never as text (`10000-…` sorts before `2026-…` as text, and BC years run backwards).
 *
 * @param text A time that {@linkcode decodeCursor} accepted, or one from {@linkcode cursorTime}.
 * @returns Epoch microseconds.
 * @throws {ValidationError} When the text is not a cursor time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cursorMicros } from "./cursor.ts";
 *
 * assert.equal(cursorMicros("1970-01-01T00:00:00.000001Z"), 1n);
 * ```
 */
export function cursorMicros(text: string): bigint {
  const fields = timeFields(text);
  if (fields === null) {
    throw new ValidationError(`Invalid cursor time: ${JSON.stringify(text.slice(0, 40))}`);
  }
  return BigInt(wholeSeconds(fields).getTime()) * 1000n + BigInt(fields.micros);
}

/**
 * The cursor time of an epoch-millisecond timestamp (MemoryStorage's precision), in the form
 * PostgreSQL's positions take: `YYYY-MM-DDTHH:MM:SS.fff000Z`, more year digits after 9999,
 * ` BC` before year 1.
 *
 * @param ms Epoch milliseconds.
 * @returns The cursor time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cursorTime } from "./cursor.ts";
 *
 * assert.equal(cursorTime(0), "1970-01-01T00:00:00.000000Z");
 * ```
 */
export function cursorTime(ms: number): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const rest = date.toISOString().replace(/^[+-]?\d+/, "").replace("Z", "000Z");
  return year > 0
    ? `${String(year).padStart(4, "0")}${rest}`
    : `${String(1 - year).padStart(4, "0")}${rest} BC`;
}
