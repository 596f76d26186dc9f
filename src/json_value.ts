/**
 * Small facts about values on their way into and out of JSON, shared by the typed JSON writer
 * and reader, the serializer and the checks of what callers pass: plain objects, the time value
 * of a Date read safely, text PostgreSQL stores as it is, and own properties set without
 * touching a prototype.
 *
 * @module
 */

/** Date's own `getTime`, as it was when this module loaded. */
const DATE_GET_TIME = Date.prototype.getTime;

/**
 * Whether a value is a plain object (an object literal or `JSON.parse` result).
 *
 * @param value Anything.
 * @returns True for plain objects, false for arrays, null, and class instances.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPlainObject } from "./json_value.ts";
 *
 * assert.ok(isPlainObject(JSON.parse('{"a":1}')));
 * assert.equal(isPlainObject(new Date()), false);
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The time value of a Date, read without calling anything the Date carries (its own or a
 * replaced prototype's `getTime`, `valueOf`, `toISOString`).
 *
 * @param value Anything.
 * @returns Epoch milliseconds; NaN for an invalid Date or a value that is not a Date.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dateTimeValue } from "./json_value.ts";
 *
 * assert.equal(dateTimeValue(new Date(5)), 5);
 * assert.equal(dateTimeValue("1970-01-01"), NaN);
 * ```
 */
export function dateTimeValue(value: unknown): number {
  try {
    return DATE_GET_TIME.call(value);
  } catch {
    return NaN;
  }
}

/**
 * Whether PostgreSQL's jsonb accepts the string as it is: no NUL and no lone surrogate.
 *
 * @param text The string.
 * @returns True when it can be stored raw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStorableText } from "./json_value.ts";
 *
 * assert.ok(isStorableText("ünïcödé 🙂"));
 * assert.equal(isStorableText("a\u0000b"), false);
 * ```
 */
export function isStorableText(text: string): boolean {
  return !text.includes("\u0000") && text.isWellFormed();
}

/**
 * Sets an own data property; `__proto__` included, without ever touching a prototype.
 *
 * @param target The object.
 * @param key The key.
 * @param value The value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineOwn } from "./json_value.ts";
 *
 * const object: Record<string, unknown> = {};
 * defineOwn(object, "__proto__", 1);
 * assert.deepEqual(Object.keys(object), ["__proto__"]);
 * ```
 */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key !== "__proto__") target[key] = value;
  else {Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });}
}
