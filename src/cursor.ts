/**
 * Page cursors: an opaque, URL-safe token for a position in insertion order, checked strictly
 * when it comes back (it may have been forged).
 *
 * @module
 */

import { ValidationError } from "./errors.ts";
import { validateId } from "./serializer.ts";

/**
 * A position in insertion order: the exact insertion time (UTC, microseconds, as
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ`) and the id, which breaks ties.
 */
export interface CursorPosition {
  /** The insertion time, ISO-8601 UTC with six fractional digits. */
  insertedAt: string;
  /** The id of the last item of the page. */
  id: string;
}

const TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})(\d{3})Z$/;

/**
 * Turns a position into a cursor.
 *
 * @param position The last item's insertion time and id.
 * @returns The cursor.
 */
export function encodeCursor(position: CursorPosition): string {
  const bytes = new TextEncoder().encode(JSON.stringify([1, position.insertedAt, position.id]));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Reads a cursor back.
 *
 * @param cursor A cursor from {@linkcode encodeCursor}, or anything a caller sent.
 * @returns The position.
 * @throws {ValidationError} When the cursor was not made by this module.
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
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    refuse();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== 1) refuse();
  const [, insertedAt, id] = parsed as [number, unknown, unknown];
  const time = typeof insertedAt === "string" ? TIME.exec(insertedAt) : null;
  if (
    !time || time[1] === "0000" || // year 0 is no year to PostgreSQL
    new Date(insertedAt as string).toISOString() !== `${insertedAt}`.slice(0, 23) + "Z"
  ) {
    refuse();
  }
  try {
    return { insertedAt: insertedAt as string, id: validateId(id) };
  } catch {
    return refuse();
  }
}

/**
 * The cursor time of an epoch-millisecond timestamp (MemoryStorage's precision).
 *
 * @param ms Epoch milliseconds.
 * @returns `YYYY-MM-DDTHH:MM:SS.fff000Z`.
 */
export function cursorTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "000Z");
}
