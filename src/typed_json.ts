/**
 * Lossless typed JSON: values JSON cannot hold are stored in natural JSON form plus a side list
 * of type annotations, present only when needed.
 *
 * A value such as `{ at: new Date(0), n: 1n }` encodes to the JSON `{"at":"1970-01-01T00:00:00.000Z","n":"1"}`
 * plus the annotations `[[["at"],"Date"],[["n"],"bigint"]]`. Plain JSON data gets no annotation
 * at all, so JSONB containment queries see exactly the values the user wrote.
 *
 * This module writes; `typed_json_reader.ts` applies the annotations on the way back.
 *
 * @module
 */

import { encodeBase64 } from "./base64.ts";
import { SerializationError } from "./errors.ts";
import { dateTimeValue, defineOwn, isStorableText } from "./json_value.ts";
import { formatPath, type JsonPath } from "./json_path.ts";
import { isPlainJson } from "./plain_json.ts";

/** Paths live in `json_path.ts`; re-exported for the modules and tests that import them here. */
export { formatPath, type JsonPath };

/**
 * One annotation: the path of a stored value, the type it had, and for renamed keys the
 * list of `[stored key, escaped original key]`.
 *
 * Tags: `undefined`, `NaN`, `Infinity`, `-Infinity`, `-0`, `Date`, `bigint`, `string`
 * (a string PostgreSQL refuses raw, stored JSON-escaped), `Set`, `Map` (stored as `[key, value]`
 * pairs), `Uint8Array` (base64), `keys` (an object whose keys were escaped).
 *
 * @example
 * ```ts
 * import type { TypeAnnotation } from "./typed_json.ts";
 *
 * const annotation: TypeAnnotation = [["context", "initial", "at"], "Date"];
 * ```
 */
export type TypeAnnotation =
  | [path: JsonPath, tag: string]
  | [path: JsonPath, tag: "keys", renamed: [stored: string, original: string][]]
  | [path: JsonPath, tag: "holes", runs: [start: number, count: number][]];

/**
 * The key of a stored document that holds its annotations (see {@linkcode TypeAnnotation}),
 * present only when there is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TYPES_KEY } from "./typed_json.ts";
 *
 * assert.equal(TYPES_KEY, "$types");
 * ```
 */
export const TYPES_KEY = "$types";

/** Date's own methods, as they were when this module loaded. */
const DATE_TO_ISO = Date.prototype.toISOString;
const DATE_GET_TIME = Date.prototype.getTime;

/** For each built-in prototype, whether a value really is one of its kind (not a fake). */
const BRANDS = new Map<unknown, (value: object) => boolean>([
  [Array.prototype, Array.isArray],
  [Date.prototype, (value) => !throws(() => DATE_GET_TIME.call(value))],
  [Map.prototype, (value) => !throws(() => Map.prototype.has.call(value, 0))],
  [Set.prototype, (value) => !throws(() => Set.prototype.has.call(value, 0))],
  [Uint8Array.prototype, (value) => ArrayBuffer.isView(value) && !(value instanceof DataView)],
]);

function throws(work: () => unknown): boolean {
  try {
    work();
    return false;
  } catch {
    return true;
  }
}

/**
 * How many holes one array may have: each is stored as a `null` (5 bytes of JSON).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_ARRAY_HOLES } from "./typed_json.ts";
 *
 * assert.equal(MAX_ARRAY_HOLES, 1000000);
 * ```
 */
export const MAX_ARRAY_HOLES = 1_000_000;
/**
 * Arrays at least this long are first checked for plain JSON data as a whole (bench/ANALYSIS.md:
 * on objects and short arrays the check fails too often, on a Date or undefined, to pay).
 */
const CHECKED_ARRAY_LENGTH = 8;

/** How deep values may nest; deeper ones are refused rather than overflowing the stack. */
const MAX_DEPTH = 1000;

/**
 * Encodes values into natural JSON and collects the type annotations JSON alone would lose.
 * One walk, no copy of what needs no change: `encode` returns the value itself (or a new value
 * only where something differs) ready for `JSON.stringify`, which turns `Date` into its ISO
 * string, `-0` into `0` and `NaN`/`±Infinity`/array holes into `null` exactly as the annotations
 * say. Refuses functions, symbols, instances of classes other than Date, Map, Set and
 * Uint8Array (subclasses such as Buffer included: they would come back as their base class),
 * cycles, and nesting deeper than 1000 levels, with a {@linkcode SerializationError} naming
 * the path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TypedJsonWriter } from "./typed_json.ts";
 *
 * const writer = new TypedJsonWriter();
 * const json = JSON.stringify(writer.encode({ at: new Date(0), n: 1n }, []));
 * assert.equal(json, '{"at":"1970-01-01T00:00:00.000Z","n":"1"}');
 * assert.deepEqual(writer.annotations, [[["at"], "Date"], [["n"], "bigint"]]);
 * ```
 */
export class TypedJsonWriter {
  /** The annotations, children before their containers. */
  readonly annotations: TypeAnnotation[] = [];
  #path: JsonPath = [];
  #ancestors: object[] = [];
  #checkText: boolean;

  /**
   * Creates a writer.
   *
   * @param options `checkText: false` skips the per-string check for NUL and lone surrogates,
   *   for callers that check the resulting JSON text instead (and encode again with the check
   *   when it finds one).
   */
  constructor(options: { checkText?: boolean } = {}) {
    this.#checkText = options.checkText ?? true;
  }

  /**
   * Encodes one value sitting at `path` of the stored document.
   *
   * @param value Any value.
   * @param path Where it sits, for annotations and errors.
   * @returns A value for `JSON.stringify`; it may share parts with `value`.
   * @throws {SerializationError} When the value cannot be stored faithfully.
   */
  encode(value: unknown, path: JsonPath): unknown {
    this.#path = path.slice();
    return this.#walk(value);
  }

  #annotate(tag: string): void {
    this.annotations.push([this.#path.slice(), tag]);
  }

  #refuse(what: string): never {
    const where = formatPath(this.#path);
    throw new SerializationError(`Cannot store ${what}: ${where}`, where);
  }

  #child(key: string | number, value: unknown): unknown {
    this.#path.push(key);
    const encoded = this.#walk(value);
    this.#path.pop();
    return encoded;
  }

  #walk(value: unknown): unknown {
    switch (typeof value) {
      case "string":
        if (!this.#checkText || isStorableText(value)) return value;
        this.#annotate("string");
        return escapeText(value);
      case "number":
        if (Object.is(value, -0)) this.#annotate("-0");
        else if (!Number.isFinite(value)) this.#annotate(String(value));
        return value;
      case "boolean":
        return value;
      case "bigint":
        this.#annotate("bigint");
        return value.toString();
      case "undefined":
        this.#annotate("undefined");
        return null;
      case "object":
        return value === null ? null : this.#walkObject(value);
      default:
        return this.#refuse(`a ${typeof value}`);
    }
  }

  #walkObject(value: object): unknown {
    if (this.#ancestors.includes(value)) return this.#refuse("a cycle (it refers to an ancestor)");
    if (this.#ancestors.length >= MAX_DEPTH) {
      return this.#refuse(`a value nested more than ${MAX_DEPTH} levels deep`);
    }
    // A long array of plain data is handed to JSON.stringify whole, after one check that builds
    // nothing (the JSON text is checked for unstorable strings afterwards; on the checking
    // pass, everything is walked).
    if (
      !this.#checkText && Array.isArray(value) && value.length >= CHECKED_ARRAY_LENGTH &&
      isPlainJson(value, MAX_DEPTH - this.#ancestors.length)
    ) return value;
    this.#ancestors.push(value);
    try {
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) {
        // JSON.stringify would call it and store what it returns, unchecked.
        if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
          return this.#refuse("an object with a toJSON method");
        }
        return this.#walkPlain(value as Record<string, unknown>);
      }
      if (proto === Array.prototype && Array.isArray(value)) {
        if ((value as { toJSON?: unknown }).toJSON !== undefined) {
          return this.#refuse("an array with a toJSON property");
        }
        return this.#walkArray(value as unknown[]);
      }
      const brand = BRANDS.get(proto);
      if (brand && !brand(value)) {
        return this.#refuse(`an object with a built-in prototype that is not one of its kind`);
      }
      if (proto === Date.prototype) {
        if (Reflect.ownKeys(value).length > 0) this.#refuseExtraKeys(value, 0);
        this.#annotate("Date");
        // The ISO string from the time value, or null for an invalid date, made here rather than
        // by JSON.stringify: a replaced toJSON, toISOString or valueOf could give anything, and a Date in its input takes V8's
        // JSON.stringify off its fast path (measured: 2 KB encodes ~8% faster).
        return Number.isNaN(dateTimeValue(value)) ? null : DATE_TO_ISO.call(value);
      }
      if (proto === Map.prototype) {
        if (Reflect.ownKeys(value).length > 0) this.#refuseExtraKeys(value, 0);
        const pairs: unknown[] = [];
        for (const [k, v] of value as Map<unknown, unknown>) {
          this.#path.push(pairs.length);
          pairs.push([this.#child(0, k), this.#child(1, v)]);
          this.#path.pop();
        }
        this.#annotate("Map");
        return pairs;
      }
      if (proto === Set.prototype) {
        if (Reflect.ownKeys(value).length > 0) this.#refuseExtraKeys(value, 0);
        const items: unknown[] = [];
        for (const v of value as Set<unknown>) items.push(this.#child(items.length, v));
        this.#annotate("Set");
        return items;
      }
      if (proto === Uint8Array.prototype) {
        this.#refuseExtraKeys(value, (value as Uint8Array).length);
        this.#annotate("Uint8Array");
        return encodeBase64(value as Uint8Array);
      }
      const name = typeof value.constructor === "function" && value.constructor.name;
      if (Array.isArray(value)) {
        return this.#refuse(
          `${
            name ? `an instance of ${name}` : "an array"
          } that is not a plain Array (it would come back as one)`,
        );
      }
      return this.#refuse(
        name ? `an instance of ${name}` : "an object with a custom prototype",
      );
    } finally {
      this.#ancestors.pop();
    }
  }

  #walkArray(array: unknown[]): unknown[] {
    const keys = Object.keys(array);
    const last = keys[keys.length - 1];
    if (last !== undefined && !isArrayIndex(last)) {
      return this.#refuse(`an array with a property ${JSON.stringify(last)} (JSON drops it)`);
    }
    this.#refuseSymbolKeys(array);
    const holes = array.length - keys.length;
    if (holes > MAX_ARRAY_HOLES) {
      return this.#refuse(
        `a sparse array with ${holes} holes (at most ${MAX_ARRAY_HOLES} allowed)`,
      );
    }
    let out: unknown[] | undefined;
    let runs: [number, number][] | undefined;
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      if (holes > 0 && item === undefined && !(i in array)) {
        // A hole: JSON.stringify writes null, the annotation lists runs of them.
        runs ??= [];
        const run = runs[runs.length - 1];
        if (run && run[0] + run[1] === i) run[1]++;
        else runs.push([i, 1]);
        continue;
      }
      const encoded = this.#child(i, item);
      if (out) out[i] = encoded;
      else if (encoded !== item) {
        out = array.slice(0, i);
        out[i] = encoded;
      }
    }
    if (out) out.length = array.length;
    if (runs) this.annotations.push([this.#path.slice(), "holes", runs]);
    return out ?? array;
  }

  /** Refuses own enumerable properties beyond `elements` indexes, which JSON would drop. */
  #refuseExtraKeys(value: object, elements: number): void {
    const keys = Object.keys(value);
    if (keys.length > elements) {
      const kind = typeof value.constructor === "function" ? value.constructor.name : "object";
      this.#refuse(
        `a ${kind} with a property ${JSON.stringify(keys[elements])} (it would be lost)`,
      );
    }
    this.#refuseSymbolKeys(value);
  }

  #refuseSymbolKeys(value: object): void {
    for (const symbol of Object.getOwnPropertySymbols(value)) {
      if (Object.prototype.propertyIsEnumerable.call(value, symbol)) {
        this.#refuse(`a symbol key (${String(symbol)})`);
      }
    }
  }

  #walkPlain(object: Record<string, unknown>): Record<string, unknown> {
    this.#refuseSymbolKeys(object);
    const keys = Object.keys(object);
    let out: Record<string, unknown> | undefined;
    let unstorable: string[] | undefined;
    for (const key of keys) {
      if (this.#checkText && !isStorableText(key)) {
        (unstorable ??= []).push(key);
        out ??= copyKeysBefore(object, keys, key);
        continue;
      }
      const item = object[key];
      const encoded = this.#child(key, item);
      if (out) defineOwn(out, key, encoded);
      else if (encoded !== item) {
        out = copyKeysBefore(object, keys, key);
        defineOwn(out, key, encoded);
      }
    }
    if (!unstorable) return out ?? object;
    const renamed: [string, string][] = [];
    for (const key of unstorable) {
      let stored = escapeText(key);
      while (Object.hasOwn(out!, stored)) stored += "~";
      defineOwn(out!, stored, this.#child(stored, object[key]));
      renamed.push([stored, escapeText(key)]);
    }
    this.annotations.push([this.#path.slice(), "keys", renamed]);
    return out!;
  }
}

/** Whether a key names an array element: a canonical integer below 2^32 - 1. */
function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4294967295;
}

/** A new object holding the keys of `object` listed before `stop` in `keys`, unchanged. */
function copyKeysBefore(
  object: Record<string, unknown>,
  keys: string[],
  stop: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === stop) break;
    defineOwn(out, key, object[key]);
  }
  return out;
}

function escapeText(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
