/**
 * The encoder's fast path: a check, without building anything, that a value is plain JSON data
 * which `JSON.stringify` writes exactly as it is, so the encoder can hand it over whole instead
 * of walking it value by value.
 *
 * @module
 */

const OBJECT_PROTOTYPE = Object.prototype;
const ARRAY_PROTOTYPE = Array.prototype;

/** How deep one check looks; a deeper value is left to the full walk (which bounds depth). */
const CHECK_DEPTH = 32;

/**
 * Whether `value` is plain JSON data that needs neither an annotation nor a refusal: strings,
 * booleans, null, finite numbers other than -0, plain objects (prototype `Object.prototype` or
 * null, no `toJSON`, no own symbol keys) and plain arrays (no holes, no `toJSON`, no other own
 * properties) of the same, at most `CHECK_DEPTH` levels and `budget` levels deep. Anything else
 * (a Date, Set, Map, undefined, -0, NaN, BigInt, a class instance, a sparse array, a cycle or
 * deep nesting) answers `false`, and the encoder walks that value in full, with every check and
 * refusal of its own. Strings are not checked for NUL or lone surrogates: the encoder checks
 * the JSON text once instead. Allocates nothing but one key list per array.
 *
 * @param value Any value.
 * @param budget How many levels of nesting the encoder still allows here.
 * @returns `true` when `JSON.stringify(value)` is already the stored form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPlainJson } from "./plain_json.ts";
 *
 * assert.ok(isPlainJson({ a: [1, "x", null] }, 1000));
 * assert.equal(isPlainJson({ at: new Date() }, 1000), false);
 * ```
 */
export function isPlainJson(value: unknown, budget: number): boolean {
  return plain(value, Math.min(CHECK_DEPTH, budget));
}

function plain(value: unknown, levels: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (levels <= 0) return false;
      const proto = Object.getPrototypeOf(value);
      if (proto === ARRAY_PROTOTYPE) return plainArray(value as unknown[], levels - 1);
      if (proto !== OBJECT_PROTOTYPE && proto !== null) return false;
      if ((value as { toJSON?: unknown }).toJSON !== undefined) return false;
      const object = value as Record<string, unknown>;
      for (const key in object) {
        // Inherited enumerable keys (a polluted Object.prototype) are not JSON's: full walk.
        if (!Object.hasOwn(object, key) || !plain(object[key], levels - 1)) return false;
      }
      return Object.getOwnPropertySymbols(object).length === 0;
    }
    default:
      return false;
  }
}

function plainArray(array: unknown[], levels: number): boolean {
  if (!Array.isArray(array) || (array as { toJSON?: unknown }).toJSON !== undefined) return false;
  const length = array.length;
  for (let i = 0; i < length; i++) {
    if (!(i in array) || !plain(array[i], levels)) return false;
  }
  // Without holes, as many own enumerable keys as elements means no other property.
  return Object.keys(array).length === length &&
    Object.getOwnPropertySymbols(array).length === 0;
}
