/**
 * Writes a stored value as text that keeps the type the serializer recorded: what the
 * dashboard's instance page shows, where JSON would turn a `Date` or a `BigInt` into a plain
 * string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { typedText } from "./typed_text.ts";
 *
 * const text = typedText({ at: new Date(0), n: 12n });
 * assert.equal(text, '{\n  "at": Date(1970-01-01T00:00:00.000Z),\n  "n": 12n\n}');
 * ```
 *
 * @module
 */

import { encodeBase64 } from "../src/base64.ts";

/**
 * A value as indented text, JSON for JSON's types and a tag for the others: `Date(ISO)`,
 * `123n` (BigInt), `Set [ … ]`, `Map { key => value }`, `bytes(n) base64`, `undefined`,
 * `NaN`, `Infinity`, `-Infinity` and `-0`. Strings are JSON strings, so markup stays text
 * wherever it is put with `textContent`.
 *
 * @param value Any value decoded from a store.
 * @param indent The indentation of the line it starts on.
 * @returns The text.
 */
export function typedText(value: unknown, indent = ""): string {
  const inner = indent + "  ";
  const list = (open: string, close: string, items: string[]) =>
    items.length === 0
      ? `${open}${close}`
      : `${open}\n${items.map((item) => inner + item).join(",\n")}\n${indent}${close}`;
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return String(value);
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Date(invalid)" : `Date(${value.toISOString()})`;
  }
  if (value instanceof Set) {
    return list("Set [", "]", Array.from(value, (item) => typedText(item, inner)));
  }
  if (value instanceof Map) {
    return list(
      "Map {",
      "}",
      Array.from(value, ([k, v]) => `${typedText(k, inner)} => ${typedText(v, inner)}`),
    );
  }
  if (value instanceof Uint8Array) {
    return `bytes(${value.length}) ${encodeBase64(value)}`;
  }
  if (Array.isArray(value)) {
    return list("[", "]", Array.from(value, (item) => typedText(item, inner)));
  }
  return list(
    "{",
    "}",
    Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${typedText(v, inner)}`),
  );
}
