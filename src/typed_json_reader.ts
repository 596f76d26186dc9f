/**
 * The way back from typed JSON: the annotations {@linkcode TypedJsonWriter} listed, applied to
 * the parsed document to restore the values JSON alone would lose. Both the document and its
 * annotations are untrusted.
 *
 * @module
 */

import { decodeBase64 } from "./base64.ts";
import { CorruptRecordError } from "./errors.ts";
import { defineOwn, isPlainObject } from "./json_value.ts";
import { formatPath, type JsonPath } from "./json_path.ts";

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
 * import assert from "node:assert/strict";
 * import { applyAnnotations } from "./typed_json_reader.ts";
 *
 * const document = JSON.parse('{"at":"1970-01-01T00:00:00.000Z"}');
 * applyAnnotations(document, [[["at"], "Date"]], "order::1");
 * assert.deepEqual(document.at, new Date(0));
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
    let parent: unknown = root;
    for (let i = 0; i < path.length - 1; i++) parent = child(parent, path[i], id, path);
    const last = path[path.length - 1];
    const stored = child(parent, last, id, path);
    let revived: unknown;
    try {
      revived = revive(annotation[1], stored, annotation[2]);
    } catch (error) {
      const detail = `bad ${annotation[1]} value at ${describePath(path)}`;
      throw new CorruptRecordError(id, detail, { cause: error });
    }
    (parent as Record<string | number, unknown>)[last as string | number] = revived;
  }
}

function describePath(path: unknown[]): string {
  return formatPath(path.filter((p) => typeof p === "string" || typeof p === "number") as JsonPath);
}

function child(container: unknown, key: unknown, id: string, path: unknown[]): unknown {
  if (Array.isArray(container)) {
    if (typeof key === "number" && Number.isInteger(key) && key >= 0 && key < container.length) {
      return container[key];
    }
  } else if (isPlainObject(container) && typeof key === "string" && Object.hasOwn(container, key)) {
    return container[key];
  }
  throw new CorruptRecordError(id, `type annotation points nowhere: ${describePath(path)}`);
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
      return decodeBase64(stored as string);
    case "keys":
      return renameKeys(stored, extra);
    case "holes":
      return punchHoles(stored, extra);
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
  originals.forEach(([, original], i) => defineOwn(object, original, values[i]));
  return object;
}

function punchHoles(stored: unknown, runs: unknown): unknown[] {
  expect(Array.isArray(stored) && Array.isArray(runs));
  const array = stored as unknown[];
  for (const run of runs as unknown[]) {
    expect(Array.isArray(run) && run.length === 2);
    const [start, count] = run as [unknown, unknown];
    expect(
      Number.isSafeInteger(start) && Number.isSafeInteger(count) && (start as number) >= 0 &&
        (count as number) >= 1 && (start as number) + (count as number) <= array.length,
    );
    for (let i = start as number; i < (start as number) + (count as number); i++) {
      expect(array[i] === null);
      delete array[i];
    }
  }
  return array;
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

function unescapeText(stored: unknown): string {
  if (typeof stored !== "string") throw new TypeError("bad escaped text");
  const text: unknown = JSON.parse(`"${stored}"`);
  if (typeof text !== "string") throw new TypeError("bad escaped text");
  return text;
}
