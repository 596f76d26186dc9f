/**
 * Lossless typed JSON: values JSON cannot hold are stored in natural JSON form plus a side list
 * of type annotations, present only when needed.
 *
 * A value such as `{ at: new Date(0), n: 1n }` encodes to the JSON `{"at":"1970-01-01T00:00:00.000Z","n":"1"}`
 * plus the annotations `[[["at"],"Date"],[["n"],"bigint"]]`. Plain JSON data gets no annotation
 * at all, so JSONB containment queries see exactly the values the user wrote.
 *
 * @module
 */

import { CorruptRecordError, SerializationError } from "./errors.ts";

/**
 * A JSON value, as stored.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "@heph/pg";
 *
 * const value: JsonValue = { a: [1, "two", null, true] };
 * ```
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};

/**
 * Where a value sits: object keys and array indexes from the root of the stored document.
 *
 * @example
 * ```ts
 * import type { JsonPath } from "@heph/pg";
 *
 * const path: JsonPath = ["context", "initial", "items", 0];
 * ```
 */
export type JsonPath = (string | number)[];

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
 * import type { TypeAnnotation } from "@heph/pg";
 *
 * const annotation: TypeAnnotation = [["context", "initial", "at"], "Date"];
 * ```
 */
export type TypeAnnotation =
  | [path: JsonPath, tag: string]
  | [path: JsonPath, tag: "keys", renamed: [stored: string, original: string][]];

/**
 * Accumulates annotations while values are encoded.
 *
 * @example
 * ```ts
 * import { encodeTyped, TypedJsonWriter } from "@heph/pg";
 *
 * const writer = new TypedJsonWriter();
 * const json = encodeTyped({ at: new Date(0) }, ["data"], writer);
 * writer.annotations; // [[["data", "at"], "Date"]]
 * ```
 */
export class TypedJsonWriter {
  /** The annotations, children before their containers. */
  readonly annotations: TypeAnnotation[] = [];
  #ancestors = new Set<object>();

  /**
   * Records that the value at `path` had type `tag`.
   *
   * @param path Where the value sits.
   * @param tag Its type.
   */
  annotate(path: JsonPath, tag: string): void {
    this.annotations.push([path.slice(), tag]);
  }

  /**
   * Runs `encode` with `value` marked as being encoded, refusing cycles.
   *
   * @param value The container about to be walked.
   * @param path Where it sits (for the error).
   * @param encode Walks its children.
   * @returns What `encode` returned.
   */
  enter<T>(value: object, path: JsonPath, encode: () => T): T {
    if (this.#ancestors.has(value)) {
      throw new SerializationError(
        `Cannot store a cycle: ${formatPath(path)} refers to one of its ancestors`,
        formatPath(path),
      );
    }
    this.#ancestors.add(value);
    try {
      return encode();
    } finally {
      this.#ancestors.delete(value);
    }
  }
}

/**
 * Formats a path for messages: `context.initial.items[0]["a b"]`.
 *
 * @param path The path.
 * @returns Its readable form.
 */
export function formatPath(path: JsonPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/**
 * Whether PostgreSQL's jsonb accepts the string as it is: no NUL and no lone surrogate.
 *
 * @param text The string.
 * @returns True when it can be stored raw.
 */
export function isStorableText(text: string): boolean {
  return !text.includes("\u0000") && text.isWellFormed();
}

function escapeText(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function unescapeText(stored: unknown): string {
  if (typeof stored !== "string") throw new TypeError("bad escaped text");
  const text: unknown = JSON.parse(`"${stored}"`);
  if (typeof text !== "string") throw new TypeError("bad escaped text");
  return text;
}

/**
 * Encodes a value into natural JSON, recording in `writer` what JSON alone would lose.
 * Refuses functions, symbols, class instances other than Date, Map, Set and Uint8Array, and
 * cycles, with a {@linkcode SerializationError} naming the path.
 *
 * @param value Any value.
 * @param path Where it sits in the stored document.
 * @param writer Collects annotations.
 * @returns The JSON form.
 *
 * @example
 * ```ts
 * import { encodeTyped, TypedJsonWriter } from "@heph/pg";
 *
 * const writer = new TypedJsonWriter();
 * encodeTyped({ ids: new Set([1, 2]) }, [], writer); // { ids: [1, 2] }
 * writer.annotations; // [[["ids"], "Set"]]
 * ```
 */
export function encodeTyped(value: unknown, path: JsonPath, writer: TypedJsonWriter): JsonValue {
  switch (typeof value) {
    case "string":
      if (isStorableText(value)) return value;
      writer.annotate(path, "string");
      return escapeText(value);
    case "number":
      if (Number.isFinite(value)) {
        if (Object.is(value, -0)) writer.annotate(path, "-0");
        return value === 0 ? 0 : value;
      }
      writer.annotate(path, String(value));
      return null;
    case "boolean":
      return value;
    case "bigint":
      writer.annotate(path, "bigint");
      return value.toString();
    case "undefined":
      writer.annotate(path, "undefined");
      return null;
    case "object":
      if (value === null) return null;
      return writer.enter(value, path, () => encodeObject(value, path, writer));
    default:
      throw new SerializationError(
        `Cannot store a ${typeof value}: ${formatPath(path)}`,
        formatPath(path),
      );
  }
}

function encodeObject(value: object, path: JsonPath, writer: TypedJsonWriter): JsonValue {
  if (Array.isArray(value)) {
    const out: JsonValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = encodeTyped(value[i], [...path, i], writer);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return encodePlain(value, path, writer);
  if (value instanceof Date) {
    writer.annotate(path, "Date");
    return Number.isNaN(value.getTime()) ? null : value.toISOString();
  }
  if (value instanceof Map) {
    const out: JsonValue[] = [];
    let i = 0;
    for (const [k, v] of value) {
      out.push([encodeTyped(k, [...path, i, 0], writer), encodeTyped(v, [...path, i, 1], writer)]);
      i++;
    }
    writer.annotate(path, "Map");
    return out;
  }
  if (value instanceof Set) {
    const out: JsonValue[] = [];
    for (const v of value) out.push(encodeTyped(v, [...path, out.length], writer));
    writer.annotate(path, "Set");
    return out;
  }
  if (value instanceof Uint8Array) {
    writer.annotate(path, "Uint8Array");
    return toBase64(value);
  }
  const kind = typeof value.constructor === "function" && value.constructor.name
    ? value.constructor.name
    : "object with a custom prototype";
  throw new SerializationError(
    `Cannot store an instance of ${kind}: ${formatPath(path)}`,
    formatPath(path),
  );
}

function encodePlain(value: object, path: JsonPath, writer: TypedJsonWriter): JsonValue {
  const record = value as Record<string, unknown>;
  const out: Record<string, JsonValue> = {};
  const renamed: [string, string][] = [];
  const symbols = Object.getOwnPropertySymbols(value).filter((s) =>
    Object.prototype.propertyIsEnumerable.call(value, s)
  );
  if (symbols.length > 0) {
    throw new SerializationError(
      `Cannot store a symbol key: ${formatPath(path)} has ${String(symbols[0])}`,
      formatPath(path),
    );
  }
  const keys = Object.keys(value);
  for (const key of keys) {
    if (!isStorableText(key)) continue;
    define(out, key, encodeTyped(record[key], [...path, key], writer));
  }
  for (const key of keys) {
    if (isStorableText(key)) continue;
    let stored = escapeText(key);
    while (Object.hasOwn(out, stored)) stored += "~";
    define(out, stored, encodeTyped(record[key], [...path, stored], writer));
    renamed.push([stored, escapeText(key)]);
  }
  if (renamed.length > 0) writer.annotations.push([path.slice(), "keys", renamed]);
  return out;
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Applies annotations to a parsed document in place, restoring the original values.
 * The document and its annotations are untrusted: a bad path, tag or value throws a
 * {@linkcode CorruptRecordError} naming `id`, and no prototype is ever touched.
 *
 * @param root The parsed document (a plain object).
 * @param annotations The annotations, as stored (checked here).
 * @param id The record's id, for errors.
 *
 * @example
 * ```ts
 * import { applyAnnotations } from "@heph/pg";
 *
 * const doc: Record<string, unknown> = { at: "1970-01-01T00:00:00.000Z" };
 * applyAnnotations(doc, [[["at"], "Date"]], "order::1");
 * doc.at instanceof Date; // true
 * ```
 */
export function applyAnnotations(
  root: Record<string, unknown>,
  annotations: unknown,
  id: string,
): void {
  if (!Array.isArray(annotations)) {
    throw new CorruptRecordError(id, "type annotations are not a list");
  }
  for (const annotation of annotations) {
    if (
      !Array.isArray(annotation) || !Array.isArray(annotation[0]) || annotation[0].length === 0 ||
      typeof annotation[1] !== "string"
    ) {
      throw new CorruptRecordError(id, `malformed type annotation ${safeJson(annotation)}`);
    }
    const path = annotation[0] as unknown[];
    const where = formatPath(
      path.filter((p) => typeof p === "string" || typeof p === "number") as JsonPath,
    );
    let parent: unknown = root;
    for (let i = 0; i < path.length - 1; i++) parent = child(parent, path[i], id, where);
    const last = path[path.length - 1];
    const stored = child(parent, last, id, where);
    let revived: unknown;
    try {
      revived = revive(annotation[1], stored, annotation[2]);
    } catch (error) {
      throw new CorruptRecordError(id, `bad ${annotation[1]} value at ${where}`, { cause: error });
    }
    (parent as Record<string | number, unknown>)[last as string | number] = revived;
  }
}

function child(container: unknown, key: unknown, id: string, where: string): unknown {
  if (Array.isArray(container)) {
    if (typeof key === "number" && Number.isInteger(key) && key >= 0 && key < container.length) {
      return container[key];
    }
  } else if (isPlainObject(container) && typeof key === "string" && Object.hasOwn(container, key)) {
    return container[key];
  }
  throw new CorruptRecordError(id, `type annotation points nowhere: ${where}`);
}

/**
 * Whether a value is a plain object (an object literal or `JSON.parse` result).
 *
 * @param value Anything.
 * @returns True for plain objects, false for arrays, null, and class instances.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const NUMBERS: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

function revive(tag: string, stored: unknown, extra: unknown): unknown {
  switch (tag) {
    case "undefined":
      expect(stored === null);
      return undefined;
    case "NaN":
    case "Infinity":
    case "-Infinity":
      expect(stored === null);
      return NUMBERS[tag];
    case "-0":
      expect(stored === 0);
      return -0;
    case "Date": {
      if (stored === null) return new Date(NaN);
      expect(typeof stored === "string");
      const date = new Date(stored as string);
      expect(!Number.isNaN(date.getTime()));
      return date;
    }
    case "bigint":
      expect(typeof stored === "string" && /^-?\d+$/.test(stored));
      return BigInt(stored as string);
    case "string":
      return unescapeText(stored);
    case "Set":
      expect(Array.isArray(stored));
      return new Set(stored as unknown[]);
    case "Map":
      expect(Array.isArray(stored) && stored.every((e) => Array.isArray(e) && e.length === 2));
      return new Map(stored as [unknown, unknown][]);
    case "Uint8Array":
      expect(typeof stored === "string");
      return fromBase64(stored as string);
    case "keys":
      return renameKeys(stored, extra);
    default:
      throw new TypeError(`unknown type tag ${JSON.stringify(tag)}`);
  }
}

function renameKeys(stored: unknown, renamed: unknown): Record<string, unknown> {
  expect(isPlainObject(stored) && Array.isArray(renamed));
  const object = stored as Record<string, unknown>;
  const originals = (renamed as unknown[]).map((entry) => {
    expect(Array.isArray(entry) && entry.length === 2 && typeof entry[0] === "string");
    const pair = entry as [string, unknown];
    expect(Object.hasOwn(object, pair[0]));
    return [pair[0], unescapeText(pair[1])] as const;
  });
  const values = originals.map(([key]) => object[key]);
  for (const [key] of originals) delete object[key];
  originals.forEach(([, original], i) => define(object, original, values[i]));
  return object;
}

function expect(condition: boolean): void {
  if (!condition) throw new TypeError("value does not match its type annotation");
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 120) ?? String(value);
  } catch {
    return String(value);
  }
}

const CHUNK = 0x8000;

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
